import type { Logger } from '../util/logger.js';

/** Whether a server failed to start because its port was taken (its log says so, or Node's EADDRINUSE). */
export function isPortConflict(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err);
  return /EADDRINUSE|address already in use|already in use/i.test(text);
}

/**
 * Starts a server on ports it chooses itself (each `start` chooses afresh), again when another
 * process took a chosen port before the server could bind it: a port is free when chosen, not
 * reserved. Any other failure is the caller's.
 */
export async function retryOnPortConflict<T>(what: string, log: Logger, start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !isPortConflict(err)) throw err;
      log.warn({ attempt }, `${what}: a port it chose was taken before it could bind it; choosing again`);
    }
  }
}

/**
 * An exit reported only once the server is up: while it starts, a failure (a port taken, say) is
 * its start's error, which may be retried, not a reason to stop everything.
 */
export function exitsAfterStart(report: ((message: string) => void) | undefined) {
  let up = false;
  return {
    onUnexpectedExit: (message: string) => {
      if (up) report?.(message);
    },
    up() {
      up = true;
    },
  };
}
