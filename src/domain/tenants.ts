/**
 * Tenants: the teams that share one Lifeline (DESIGN: Tenants). Each execution runs for one; a
 * tenant's settings give it a share of contended agents, limits on what it may hold, and budgets.
 */

/** The tenant of executions that name none, and of leases and waits recorded before tenants. */
export const defaultTenant = 'default';

export type OverBudgetPolicy = 'stop' | 'finish';

export interface TenantSettings {
  name: string;
  /** Its share of a contended agent against the other waiting tenants' weights. */
  weight: number;
  /** 1 to 5, 1 first: every waiter of a better priority is served before any of a worse one. */
  priority: number;
  /** Runs it may hold at once, across agents; null: no limit. */
  maxRunning: number | null;
  /** Runs it may hold at once on any one agent; null: no limit. */
  maxRunningPerAgent: number | null;
  /** USD it may spend per UTC day; null: no budget. */
  dailyBudgetUsd: number | null;
  /** USD it may spend per UTC month; null: no budget. */
  monthlyBudgetUsd: number | null;
  /** What happens to its runs in flight once it spent a budget: stopped, or left to finish. */
  overBudget: OverBudgetPolicy;
}

/** The settings of a tenant nobody set: weight 1, the middle priority, no limits, no budgets. */
export function defaultTenantSettings(name: string): TenantSettings {
  return {
    name,
    weight: 1,
    priority: 3,
    maxRunning: null,
    maxRunningPerAgent: null,
    dailyBudgetUsd: null,
    monthlyBudgetUsd: null,
    overBudget: 'stop',
  };
}
