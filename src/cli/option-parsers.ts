import { InvalidArgumentError } from 'commander';

/** Commander parsers: a malformed value is a usage error naming its option (exit code 2). */

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
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

/** `90s`, `30m`, `1h`, `2d` → seconds. */
export function ageInSeconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a number with a unit: s, m, h or d (for example 30m, 1h, 2d)');
  return Number(match[1]) * units[match[2] as keyof typeof units];
}
