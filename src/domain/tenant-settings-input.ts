import { z } from 'zod';
import type { TenantSettings } from './tenants.js';

/** A limit or budget, or `null` to clear it. The same bounds as migrations/0010_tenants.sql. */
const clearable = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);
/** The bounds of a tenant's limits and budgets (migrations/0010_tenants.sql checks the same). */
export const tenantLimits = { maxRuns: 100_000, maxUsd: 1e9 } as const;

const runs = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(tenantLimits.maxRuns, `must be at most ${tenantLimits.maxRuns}`);
const usd = z.number().gt(0, 'must be more than 0').max(tenantLimits.maxUsd, `must be at most ${tenantLimits.maxUsd}`);

/** A change to a tenant's settings as an operator gives it: each field named when out of bounds. */
export const tenantChangeSchema = z.strictObject({
  weight: z.number().min(0.01, 'must be at least 0.01').max(1000, 'must be at most 1000').optional(),
  priority: z.number().int('must be a whole number').min(1, 'must be from 1 (first) to 5').max(5, 'must be from 1 (first) to 5').optional(),
  maxRunning: clearable(runs).optional(),
  maxRunningPerAgent: clearable(runs).optional(),
  dailyBudgetUsd: clearable(usd).optional(),
  monthlyBudgetUsd: clearable(usd).optional(),
  overBudget: z.enum(['stop', 'finish'], { error: "must be 'stop' or 'finish'" }).optional(),
});

export type TenantChangeInput = z.input<typeof tenantChangeSchema>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T => true as T;
agree<Same<Required<z.output<typeof tenantChangeSchema>>, Omit<TenantSettings, 'name'>>>();
