import { z } from 'zod';

/**
 * Limits an execution may set on its run, checked by the client before anything is stored and by
 * admission for a workflow started some other way. The run activity enforces them while the agent
 * reports what they need: progress for the idle timeout, a cost in USD for the budget.
 */
export const runLimits = {
  idleTimeoutSeconds: { min: 5, max: 86_400 },
  maxCostUsd: { max: 1_000_000 },
} as const;

/** A whole number of seconds within limits; the messages leave the field's name to whoever reports them (`field: message`). */
export const wholeSeconds = ({ min, max }: { min: number; max: number }) =>
  z
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(min, `must be at least ${min} s`)
    .max(max, `must be at most ${max} s`);

export const runLimitFields = {
  idleTimeoutSeconds: wholeSeconds(runLimits.idleTimeoutSeconds),
  maxCostUsd: z
    .number({ error: 'must be a number of US dollars' })
    .positive('must be more than 0 USD')
    .max(runLimits.maxCostUsd.max, `must be at most ${runLimits.maxCostUsd.max} USD`),
};

/** `field: message` for each limit of a start that bypassed the client's validation and got it wrong. */
export function invalidRunLimits(input: Partial<Record<keyof typeof runLimitFields, unknown>>): string[] {
  return Object.entries(runLimitFields).flatMap(([field, schema]) => {
    const value = input[field as keyof typeof runLimitFields];
    if (value === undefined) return [];
    const parsed = schema.safeParse(value);
    return parsed.success ? [] : [`${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}`];
  });
}
