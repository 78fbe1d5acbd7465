import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { waitUntil } from '../../src/util/wait-until.js';
import type { Harness } from './lifeline-harness.js';
import { settingsEnv } from './test-settings.js';

const workerEntry = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines, with the time each arrived. */
  lines: { at: number; entry: Record<string, unknown> }[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A real worker process (src/worker.ts) on the harness's task queue, ready once it has logged
 * "worker started". `env` adds or overrides variables of the worker's configuration.
 */
export async function startWorkerProcess(h: Harness, identity: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    env: {
      ...process.env,
      ...settingsEnv(h.settings),
      LIFELINE_TEMPORAL_ADDRESS: inject('temporalAddress'),
      LIFELINE_TEMPORAL_NAMESPACE: h.namespace,
      LIFELINE_TASK_QUEUE: h.taskQueue,
      DATABASE_URL: h.databaseUrl,
      REDIS_URL: h.redisUrl,
      LIFELINE_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LIFELINE_WORKER_IDENTITY: identity,
      LIFELINE_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: WorkerProcess['lines'] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push({ at: Date.now(), entry: JSON.parse(line) as Record<string, unknown> });
    } catch {
      // the Temporal core writes some plain-text lines
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `worker ${identity} exited (${signal ?? code}): ${stderr.slice(-10).join('\n')}`;
      resolve();
    }),
  );
  await waitUntil(async () => lines.some((l) => l.entry.msg === 'worker started'), {
    what: `worker ${identity} to start`,
    timeoutMs: 60_000,
    abortReason: () => exited,
  });
  return {
    child,
    lines,
    async kill(signal = 'SIGKILL') {
      if (exited === undefined) child.kill(signal);
      await exit;
    },
  };
}
