import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { budgetMessage, spentBudget } from '../domain/tenant-budget.js';

/** How often a worker reads a tenant's spend while it runs that tenant's runs. */
const refreshMs = 5000;

/**
 * Whether a tenant's runs in flight must stop: it spent a budget and its policy is `stop`. Read
 * on every read of a run, so it answers from what this worker last learnt, and learns again in
 * the background at most every few seconds per tenant: a thousand runs cost one query per tenant
 * per interval, and a Postgres away never delays a heartbeat (the last answer stands).
 */
export function createTenantBudgetWatch(deps: Pick<LifelineDeps, 'tenants' | 'tenantSettings' | 'clock' | 'log'>) {
  const known = new Map<string, { at: number; stop?: string; reading?: Promise<void> }>();
  async function learn(tenant: string): Promise<string | undefined> {
    const settings = await deps.tenantSettings(tenant);
    if (settings.overBudget !== 'stop' || (settings.dailyBudgetUsd === null && settings.monthlyBudgetUsd === null)) return undefined;
    const spent = spentBudget(settings, (await deps.tenants.use([tenant])).get(tenant)!);
    return spent && budgetMessage(tenant, spent);
  }
  return {
    /** Why the tenant's runs in flight must stop now, if they must (as last learnt). */
    stopReason(tenant: string): string | undefined {
      const entry = known.get(tenant) ?? known.set(tenant, { at: -Infinity }).get(tenant)!;
      if (!entry.reading && deps.clock() - entry.at >= refreshMs) {
        entry.reading = learn(tenant)
          .then(
            (stop) => {
              entry.stop = stop;
              entry.at = deps.clock();
            },
            (err: Error) => {
              entry.at = deps.clock();
              deps.log.warn({ err: err.message, tenant }, "could not read the tenant's spend; its last known state stands");
            },
          )
          .finally(() => {
            entry.reading = undefined;
          });
      }
      return entry.stop;
    },
  };
}
