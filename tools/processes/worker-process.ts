import { fileURLToPath } from 'node:url';
import { startNodeScript, type NodeScriptProcess } from './node-script-process.js';

const workerEntry = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

export interface WorkerProcessOptions {
  identity: string;
  /** The worker's whole environment: its configuration (LIFELINE_*, DATABASE_URL, REDIS_URL) and PATH. */
  env: NodeJS.ProcessEnv;
  /** Also append the worker's raw output here. */
  logFile?: string;
}

export interface WorkerProcess extends NodeScriptProcess {
  identity: string;
  /** Parsed JSON log lines, with the time each arrived. */
  lines: { at: number; entry: Record<string, unknown> }[];
}

/**
 * A real worker process (`node --import tsx src/worker.ts`), ready once it has logged "worker
 * started" (so its LIFELINE_LOG_LEVEL must be info or below).
 */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const lines: WorkerProcess['lines'] = [];
  const proc = await startNodeScript({
    name: `worker ${opts.identity}`,
    script: workerEntry,
    env: { ...opts.env, LIFELINE_WORKER_IDENTITY: opts.identity },
    logFile: opts.logFile,
    onJson: (entry, at) => lines.push({ at, entry }),
    ready: (entry) => entry.msg === 'worker started',
  });
  return { ...proc, identity: opts.identity, lines };
}
