import { startWorkerProcess } from '../processes/worker-process.js';
import { waitUntil } from '../../src/util/wait-until.js';

export interface WorkerChild {
  /** The time (epoch ms, the worker's own pino `time`) of the first log line with this `msg`, waiting up to `timeoutMs`. */
  logged(msg: string, match?: Record<string, unknown>, timeoutMs?: number): Promise<number>;
  /** Sends the signal and resolves with the time it was sent, once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<number>;
}

/** A real worker process (src/stack/worker-process.ts) with the log-time lookups the recovery figure needs. */
export async function startWorkerChild(env: Record<string, string>): Promise<WorkerChild> {
  const worker = await startWorkerProcess({
    identity: env.LIFELINE_WORKER_IDENTITY ?? 'bench-worker',
    env: { ...process.env, ...env },
  });
  return {
    logged: (msg, match = {}, timeoutMs = 120_000) =>
      waitUntil(
        async () => {
          const line = worker.lines.find(({ entry }) => entry.msg === msg && Object.entries(match).every(([k, v]) => entry[k] === v));
          return line && (line.entry.time as number);
        },
        { what: `the worker to log "${msg}"`, timeoutMs, intervalMs: 20, abortReason: worker.exitReason },
      ),
    async kill(signal) {
      const sentAt = Date.now();
      await worker.kill(signal);
      return sentAt;
    },
  };
}
