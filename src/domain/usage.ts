import { z } from 'zod';

/**
 * What a run has used so far, as its agent reports it (agent protocol 2): running totals, so the
 * last report is the whole. Every field is optional; an agent reports what it knows.
 */
export const usageReport = z.strictObject({
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  cost: z
    .strictObject({
      amount: z.number().nonnegative(),
      /** ISO 4217, such as USD. */
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
    })
    .optional(),
  model: z.string().min(1).max(200).optional(),
});
export type UsageReport = z.infer<typeof usageReport>;

/**
 * The reported cost past a budget in US dollars, if it is. A cost in another currency is never
 * converted, so it cannot exceed a budget: a budget needs an agent that reports its cost in USD.
 */
export function costOverBudget(usage: UsageReport | undefined, maxCostUsd: number | undefined): number | undefined {
  const cost = usage?.cost;
  if (maxCostUsd === undefined || cost?.currency !== 'USD') return undefined;
  return cost.amount > maxCostUsd ? cost.amount : undefined;
}
