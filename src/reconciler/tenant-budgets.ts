import { budgetMessage, budgetUses } from '../domain/tenant-budget.js';
import type { Cycle } from './cycle.js';

/** A budget this much spent is warned about; spent in full, alerted. */
const warnAt = 0.8;

/**
 * Alerts on tenants' budgets: at 80 % spent, a warning; at 100 %, that no new run is admitted
 * (and, under `--over-budget stop`, that runs in flight are stopped). One condition per tenant,
 * period and UTC day or month, so a new period that crosses again alerts again.
 */
export async function reportTenantBudgets(cycle: Cycle): Promise<void> {
  const { deps, dryRun } = cycle;
  const budgeted = (await deps.tenants.list()).filter((t) => t.dailyBudgetUsd !== null || t.monthlyBudgetUsd !== null);
  if (budgeted.length === 0 || dryRun) return;
  const use = await deps.tenants.use(budgeted.map((t) => t.name));
  const today = new Date().toISOString().slice(0, 10);
  for (const tenant of budgeted) {
    for (const budget of budgetUses(tenant, use.get(tenant.name)!)) {
      const fraction = budget.spentUsd / budget.budgetUsd;
      if (fraction < warnAt) continue;
      const spent = fraction >= 1;
      const percent = Math.floor(fraction * 100);
      await deps.standingAlerts.send(
        {
          kind: spent ? 'tenant_budget_spent' : 'tenant_budget_warning',
          summary: spent
            ? `${budgetMessage(tenant.name, budget)}; runs in flight are ${tenant.overBudget === 'stop' ? 'stopped' : 'left to finish'}`
            : `tenant "${tenant.name}" has spent ${percent} % of its ${budget.period === 'day' ? 'daily' : 'monthly'} budget (${budget.spentUsd.toFixed(2)} of ${budget.budgetUsd} USD)`,
          details: { tenant: tenant.name, period: budget.period, spentUsd: budget.spentUsd, budgetUsd: budget.budgetUsd, percent },
        },
        `${tenant.name}:${budget.period}:${budget.period === 'day' ? today : today.slice(0, 7)}`,
      );
    }
  }
}
