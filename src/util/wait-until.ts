import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the error message: "Postgres on 127.0.0.1:5432 to accept connections". */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Extra text for the error, such as the server's log tail; a function is read only on failure. */
  hint?: string | (() => string);
  /** Checked before each try; a message here ends the wait at once (for example: the process exited). */
  abortReason?: () => string | undefined;
}

/**
 * Polls `check` until it returns a value other than undefined/false, or the deadline passes.
 * Errors thrown by `check` count as "not yet" and the last one is reported on timeout.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  { what, timeoutMs, intervalMs = 100, hint, abortReason }: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const hintText = () => {
    const text = typeof hint === 'function' ? hint() : hint;
    return text ? `\n${text}` : '';
  };
  let lastError: unknown;
  for (;;) {
    const aborted = abortReason?.();
    if (aborted) throw new Error(`gave up waiting for ${what}: ${aborted}${hintText()}`);
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}${hintText()}`);
    }
    await delay(intervalMs);
  }
}
