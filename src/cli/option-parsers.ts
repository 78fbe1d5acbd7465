import { limits } from '../contract/start-execution-schema.js';
import { runLimits } from '../domain/run-limits.js';
import { InvalidArgumentError, Option } from 'commander';

/** Commander parsers: a malformed value is a usage error naming its option (exit code 2). */

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** A plain decimal such as `2` or `0.50`; its range is the request's validation to name. */
function decimalNumber(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('must be a number such as 2 or 0.50');
  return Number(value);
}

export function positiveLimit(max: number) {
  return (value: string): number => {
    const n = wholeNumber(value);
    if (n < 1 || n > max) throw new InvalidArgumentError(`must be between 1 and ${max}`);
    return n;
  };
}

const units = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Ten years: beyond it a `since` reaches before any row, and Postgres' interval arithmetic overflows. */
const maxAgeSeconds = 10 * 365 * 86_400;

/** `3600` (seconds), `90s`, `30m`, `1h`, `2d` → seconds, at most ten years. */
export function ageInSeconds(value: string): number {
  const match = /^(\d+)([smhd])?$/.exec(value.trim());
  if (!match)
    throw new InvalidArgumentError('must be a number of seconds, or a number with a unit: s, m, h or d (for example 90, 30m, 1h, 2d)');
  const seconds = Number(match[1]) * units[(match[2] ?? 's') as keyof typeof units];
  if (seconds > maxAgeSeconds) throw new InvalidArgumentError('must be at most 3650d (ten years)');
  return seconds;
}

/** Free text up to a length, such as a schedule's note: Temporal refuses longer ones with a raw error. */
export function textUpTo(max: number) {
  return (value: string): string => {
    if (value.length > max) throw new InvalidArgumentError(`must be at most ${max} characters (got ${value.length})`);
    return value;
  };
}

/** `--idle-timeout`, for an execution and for each fire of a schedule. */
export function idleTimeoutOption(): Option {
  return new Option('--idle-timeout <seconds>', 'stop the run when its agent reports no progress for this long (5-86400)').argParser(
    wholeNumber,
  );
}

/** `--timeout`, for an execution and for each fire of a schedule. */
export function timeoutOption(): Option {
  const { min, max } = limits.timeoutSeconds;
  return new Option('--timeout <seconds>', `execution timeout, ${min}-${max} s (default: the agent's, then Lifeline's)`).argParser(
    wholeNumber,
  );
}

/** `--max-cost-usd`, for an execution and for each fire of a schedule. */
export function maxCostUsdOption(): Option {
  return new Option(
    '--max-cost-usd <usd>',
    `stop the run when its agent reports a cost in USD above this (above 0, at most ${runLimits.maxCostUsd.max}; needs an agent that reports cost)`,
  ).argParser(decimalNumber);
}
