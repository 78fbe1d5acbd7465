import type { TenantSettings } from '../domain/tenants.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { TenantShare } from './capacity-slots.js';

/** What the slot queue needs of a tenant's settings. */
export function shareOf(settings: TenantSettings): TenantShare {
  return {
    tenant: settings.name,
    weight: settings.weight,
    priority: settings.priority,
    ...(settings.maxRunningPerAgent !== null && { maxRunningPerAgent: settings.maxRunningPerAgent }),
    ...(settings.maxRunning !== null && { maxRunning: settings.maxRunning }),
  };
}

/**
 * Tenants' settings as a queued wait reads them on every try: from Postgres at most once per
 * `maxAgeMs` per tenant and worker, so hundreds of waiters cost one query per tenant per interval,
 * and a change made with `lifeline tenants set` reaches every waiter within that interval.
 */
export function createTenantSettingsReader(tenants: Pick<TenantStore, 'get'>, maxAgeMs: number, clock: () => number) {
  const cached = new Map<string, { at: number; settings: Promise<TenantSettings> }>();
  return (name: string): Promise<TenantSettings> => {
    const now = clock();
    const hit = cached.get(name);
    if (hit && now - hit.at < maxAgeMs) return hit.settings;
    const settings = tenants.get(name);
    cached.set(name, { at: now, settings });
    // A failed read is not kept: the next try reads again.
    settings.catch(() => cached.get(name)?.settings === settings && cached.delete(name));
    return settings;
  };
}
