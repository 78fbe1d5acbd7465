import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const superviseScript = fileURLToPath(new URL('./supervise.sh', import.meta.url));

export interface ServerProcessOptions {
  /** Human name used in every message: "Postgres", "Redis", "Temporal dev server". */
  name: string;
  command: string;
  args: string[];
  /** The signal that makes this server shut down quickly and cleanly (Postgres: SIGINT). */
  stopSignal: NodeJS.Signals;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Called when the server exits without having been asked to stop. */
  onUnexpectedExit?: (message: string) => void;
}

export interface ServerProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  /** Set once the process has exited; a reason for waitUntil to stop waiting. */
  exitReason(): string | undefined;
  /** Asks the server to stop, then kills its whole process group after `forceAfterMs`. */
  stop(forceAfterMs?: number): Promise<void>;
}

/** The last lines of a log file, to put the cause of a failure in front of the reader. */
export function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(log file not readable)';
  }
}

/**
 * Starts a long-running server under supervise.sh in its own process group, output appended to
 * `logFile`. The supervisor's stdin is a pipe held by this process: see supervise.sh.
 */
export function startServerProcess(options: ServerProcessOptions): ServerProcess {
  const { name, command, args, stopSignal, logFile, env, onUnexpectedExit } = options;
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(superviseScript, [stopSignal, command, ...args], {
      stdio: ['pipe', logFd, logFd],
      detached: true,
      env: env ?? process.env,
    });
  } finally {
    closeSync(logFd);
  }
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command} (see ${logFile})`);
  const pid = child.pid;
  let stopping = false;
  let exitMessage: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitMessage = `${name} exited (${signal ?? `code ${code}`}); its log is ${logFile}:\n${logTail(logFile)}`;
      if (!stopping) onUnexpectedExit?.(exitMessage);
      resolve();
    });
  });
  child.once('error', (err) => {
    exitMessage = `${name}: ${err.message}`;
  });
  // The pipe must not keep the event loop alive, but it must stay open for as long as we live.
  child.stdin?.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref(): void } | null)?.unref();

  return {
    name,
    logFile,
    pid,
    exitReason: () => exitMessage,
    async stop(forceAfterMs = 15_000) {
      if (exitMessage !== undefined) return;
      stopping = true;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, forceAfterMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
