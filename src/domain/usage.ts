import { z } from 'zod';

/**
 * What a run has used so far, as its agent reports it (agent protocol 2): running totals, so the
 * last report is the whole. Every field is optional; an agent reports what it knows.
 */
const costFields = {
  amount: z.number().nonnegative(),
  /** ISO 4217, such as USD. */
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
};
const usageFields = {
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  model: z.string().min(1).max(200).optional(),
};

/** A report as Lifeline stores it, and as the reference server reads it from its command's output. */
export const usageReport = z.strictObject({ ...usageFields, cost: z.strictObject(costFields).optional() });
export type UsageReport = z.infer<typeof usageReport>;

/**
 * A report as an agent sends it: fields Lifeline does not know (cached tokens, a total) are
 * dropped, and a report it cannot read drops the usage, never the run, its stop or its output.
 */
export const reportedUsage = z
  .object({ ...usageFields, cost: z.object(costFields).optional() })
  .optional()
  .catch(undefined);

/**
 * The reported cost past a budget in US dollars, if it is. A cost in another currency is never
 * converted, so it cannot exceed a budget: a budget needs an agent that reports its cost in USD.
 */
export function costOverBudget(usage: UsageReport | undefined, maxCostUsd: number | undefined): number | undefined {
  const cost = usage?.cost;
  if (maxCostUsd === undefined || cost?.currency !== 'USD') return undefined;
  return cost.amount > maxCostUsd ? cost.amount : undefined;
}
