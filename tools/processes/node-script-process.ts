import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { waitUntil } from '../../src/util/wait-until.js';

export interface NodeScriptOptions {
  /** Human name used in messages: "worker w-1", "agent server". */
  name: string;
  /** A TypeScript entry point, run with `node --import tsx`. */
  script: string;
  args?: string[];
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  /** Also append the raw output here. */
  logFile?: string;
  /** Each JSON line the child writes to stdout (its structured log), with the time it arrived. */
  onJson?: (entry: Record<string, unknown>, at: number) => void;
  /** Ready once a stdout JSON line satisfies this. */
  ready: (entry: Record<string, unknown>) => boolean;
  readyTimeoutMs?: number;
}

export interface NodeScriptProcess {
  name: string;
  child: ChildProcess;
  /** Set once the process has exited. */
  exitReason(): string | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, then SIGKILL if it is still alive after `forceAfterMs`. */
  stop(forceAfterMs: number): Promise<void>;
}

/**
 * Starts a long-running Node script of this project as a child process whose stdout is JSON log
 * lines, and resolves once one of them says it is ready. A child that fails to get ready is killed.
 */
/** A test, chaos run or benchmark that exits early (Ctrl-C, a failure) takes its processes with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startNodeScript(opts: NodeScriptOptions): Promise<NodeScriptProcess> {
  const { name } = opts;
  const child = spawn(process.execPath, ['--import', 'tsx', opts.script, ...(opts.args ?? [])], {
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const logFile = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  let ready = false;
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    logFile?.write(`${line}\n`);
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // the Temporal core writes some plain-text lines
    }
    opts.onJson?.(entry, Date.now());
    if (!ready && opts.ready(entry)) ready = true;
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    logFile?.write(`${line}\n`);
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
  });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `${name} exited (${signal ?? `code ${code}`}): ${stderr.slice(-10).join('\n')}`;
      logFile?.end();
      resolve();
    }),
  );
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (exited === undefined) child.kill(signal);
    await exit;
  };
  try {
    await waitUntil(async () => ready, {
      what: `${name} to start`,
      timeoutMs: opts.readyTimeoutMs ?? 60_000,
      abortReason: () => exited,
    });
  } catch (err) {
    await kill();
    throw err;
  }
  return {
    name,
    child,
    exitReason: () => exited,
    kill,
    async stop(forceAfterMs) {
      if (exited !== undefined) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
      child.kill('SIGTERM');
      await exit;
      clearTimeout(timer);
    },
  };
}
