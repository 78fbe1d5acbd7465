import { describe, expect, it } from 'vitest';
import { ageInSeconds } from '../../src/cli/option-parsers.js';

describe('duration options', () => {
  it('take a plain number of seconds, or a number with a unit', () => {
    expect(ageInSeconds('3600')).toBe(3600);
    expect(ageInSeconds('90s')).toBe(90);
    expect(ageInSeconds('30m')).toBe(1800);
    expect(ageInSeconds('2h')).toBe(7200);
    expect(ageInSeconds('1d')).toBe(86_400);
  });

  it('refuse anything else, saying what they take, and more than ten years', () => {
    expect(() => ageInSeconds('an hour')).toThrow(/must be a number of seconds, or a number with a unit/);
    expect(() => ageInSeconds('-5')).toThrow(/must be a number of seconds/);
    expect(() => ageInSeconds('3651d')).toThrow(/at most 3650d/);
  });
});
