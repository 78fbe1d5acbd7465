import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../src/util/wait-until.js';

const workerEntry = fileURLToPath(new URL('../src/worker.ts', import.meta.url));

export interface WorkerChild {
  /** The time (epoch ms, the worker's own pino `time`) of the first log line with this `msg`, waiting up to `timeoutMs`. */
  logged(msg: string, match?: Record<string, unknown>, timeoutMs?: number): Promise<number>;
  /** Sends the signal and resolves with the time it was sent, once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<number>;
}

/** `node --import tsx src/worker.ts` as an operator runs it, configured only through `env`. */
export async function startWorkerChild(env: Record<string, string>): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line of ours (the Temporal core prints some plain text)
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitReason = `worker exited (${signal ?? code}): ${stderr.slice(-10).join('\n')}`;
      resolve();
    }),
  );

  const logged: WorkerChild['logged'] = (msg, match = {}, timeoutMs = 120_000) =>
    waitUntil(
      async () => {
        const line = lines.find((l) => l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v));
        return line && (line.time as number);
      },
      { what: `the worker to log "${msg}"`, timeoutMs, intervalMs: 20, abortReason: () => exitReason },
    );
  await logged('worker started');
  return {
    logged,
    async kill(signal) {
      const sentAt = Date.now();
      if (exitReason === undefined) child.kill(signal);
      await exited;
      return sentAt;
    },
  };
}
