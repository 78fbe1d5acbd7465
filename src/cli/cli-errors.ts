import { CommanderError } from 'commander';
import { InvalidExecutionInputError } from '../client/client-errors.js';
import { ConfigError } from '../config/config.js';
import { visible } from './visible-text.js';

/** Bad usage or invalid input: exit code 2, like commander's own usage errors. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const exitCodes = { ok: 0, error: 1, usage: 2 } as const;

/** Prints what went wrong (commander has already printed its own errors) and returns the exit code. */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  const message = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error && !message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
  console.error(visible(`lifeline: ${message}${cause}`));
  const usage = err instanceof UsageError || err instanceof InvalidExecutionInputError || err instanceof ConfigError;
  return usage ? exitCodes.usage : exitCodes.error;
}
