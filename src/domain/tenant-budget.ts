import type { TenantSettings } from './tenants.js';

export type BudgetPeriod = 'day' | 'month';

/** One of a tenant's budgets against what it spent in the current period. */
export interface BudgetUse {
  period: BudgetPeriod;
  spentUsd: number;
  budgetUsd: number;
}

/** The tenant's budgets that are set, each with the spend of its period (the UTC day, the UTC month). */
export function budgetUses(settings: TenantSettings, spent: { dayUsd: number; monthUsd: number }): BudgetUse[] {
  const uses: BudgetUse[] = [];
  if (settings.dailyBudgetUsd !== null) uses.push({ period: 'day', spentUsd: spent.dayUsd, budgetUsd: settings.dailyBudgetUsd });
  if (settings.monthlyBudgetUsd !== null) uses.push({ period: 'month', spentUsd: spent.monthUsd, budgetUsd: settings.monthlyBudgetUsd });
  return uses;
}

/** The first of the tenant's budgets it has spent in full, if any: no new run is admitted then. */
export function spentBudget(settings: TenantSettings, spent: { dayUsd: number; monthUsd: number }): BudgetUse | undefined {
  return budgetUses(settings, spent).find((use) => use.spentUsd >= use.budgetUsd);
}

const usd = (amount: number) => `${Number(amount.toFixed(4))} USD`;
const periodName = { day: 'daily', month: 'monthly' } as const;
const periodEnd = { day: 'the next UTC day', month: 'the next UTC month' } as const;

/** Why a tenant's run is refused or stopped, in one line an operator acts on. */
export function budgetMessage(tenant: string, use: BudgetUse): string {
  return `tenant "${tenant}" has spent ${usd(use.spentUsd)} of its ${periodName[use.period]} budget of ${usd(use.budgetUsd)}; no new runs until ${periodEnd[use.period]} or a higher budget (lifeline tenants set ${tenant} --${use.period === 'day' ? 'daily' : 'monthly'}-budget-usd)`;
}
