import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { isolatedEnvironment } from '../../tools/processes/isolated-environment.js';
import type { Harness } from './lifeline-harness.js';

/** What ships: the compiled CLI, which `npm test` builds first (`npm run build` before running a file alone). */
const cliEntry = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the real CLI (`node dist/cli/main.js ...args`), its output piped. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcessByStdio<null, Readable, Readable> {
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run \`npm run build\` (npm test does)`);
  return spawn(process.execPath, [cliEntry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the real CLI to its exit; killed past the deadline. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeline ${args.join(' ')} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The environment the CLI needs to reach a harness's Lifeline, and nothing of this process's own. */
export function cliEnvironment(h: Harness, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return isolatedEnvironment({
    ...inject('temporalEnv'),
    LIFELINE_TEMPORAL_NAMESPACE: h.namespace,
    LIFELINE_TASK_QUEUE: h.taskQueue,
    DATABASE_URL: h.databaseUrl,
    REDIS_URL: h.redisUrl,
    ...extra,
  });
}
