import type { Cycle } from './cycle.js';

/**
 * How long a tenant's hold may go without its execution showing as a holder in Postgres: an
 * admission records its row right after its acquire, so only a worker that died between the two
 * leaves one behind. Generous, as it is compared on two clocks (Redis' and this worker's).
 */
const orphanAfterMs = 120_000;

/**
 * Keeps each limited tenant's holders across agents (slots/tenant-holds.ts) true to Postgres: a hold
 * whose execution no longer holds capacity is given back (its worker died before giving it back),
 * and an execution that holds capacity but is missing is added (its slot came while the holders
 * were being rebuilt). Holders that were never built are left alone: their first use builds them.
 */
export async function reconcileTenantHolds(cycle: Cycle): Promise<void> {
  const { deps, dryRun } = cycle;
  const limited = (await deps.tenants.list()).filter((t) => t.maxRunning !== null);
  for (const { name } of limited) {
    const [held, truth] = await Promise.all([deps.slots.tenantHolds.holders(name), deps.executions.tenantSlotHolders(name)]);
    const holding = new Set(truth);
    const orphans = held.filter((h) => !holding.has(h.executionId) && Date.now() - h.since > orphanAfterMs);
    const known = new Set(held.map((h) => h.executionId));
    const missing = truth.filter((id) => !known.has(id));
    if (orphans.length + missing.length === 0 || dryRun) continue;
    for (const { executionId } of orphans) await deps.slots.tenantHolds.unreserve(name, executionId);
    const added: string[] = [];
    for (const executionId of missing) if (await deps.slots.tenantHolds.note(name, executionId)) added.push(executionId);
    if (orphans.length + added.length === 0) continue;
    deps.log.warn(
      { tenant: name, released: orphans.map((o) => o.executionId), added },
      "corrected the tenant's holds across agents to match Postgres",
    );
  }
}
