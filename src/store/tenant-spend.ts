import type pg from 'pg';

/** What a tenant spent in the current UTC day and month, and how many slots it holds now. */
export interface TenantUse {
  tenant: string;
  dayUsd: number;
  monthUsd: number;
  /** Executions that hold a capacity slot: running, or admitted and waiting for a worker. */
  holding: number;
}

/**
 * Spend is the rows' usage: the cost its agent reported in USD, the last report of a run that still
 * runs included (copied every few seconds), counted in the UTC day and month the execution was
 * created in. A cost in another currency is never converted, so it counts nothing. A trigger keeps
 * it per tenant and day (migration 0014), so a read costs a month of days, not a month of rows.
 */
export function createTenantSpend(pool: pg.Pool) {
  return {
    /** The use of each given tenant (all tenants with any when absent); a tenant with none has zeros. */
    async use(tenants?: readonly string[]): Promise<Map<string, TenantUse>> {
      const only = tenants === undefined ? null : [...tenants];
      const [spent, holding] = await Promise.all([
        pool.query<{ tenant: string; dayUsd: number; monthUsd: number }>(
          `SELECT tenant,
             coalesce(sum(usd) FILTER (WHERE day = (now() AT TIME ZONE 'UTC')::date), 0)::float8 AS "dayUsd",
             coalesce(sum(usd), 0)::float8 AS "monthUsd"
           FROM tenant_spend_days
           WHERE day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date AND ($1::text[] IS NULL OR tenant = ANY($1))
           GROUP BY tenant`,
          [only],
        ),
        pool.query<{ tenant: string; holding: number }>(
          `SELECT tenant, count(*)::int AS holding FROM executions
           WHERE status IN ('queued', 'running') AND (status = 'running' OR slot_acquired_at IS NOT NULL)
             AND ($1::text[] IS NULL OR tenant = ANY($1))
           GROUP BY tenant`,
          [only],
        ),
      ]);
      const use = new Map<string, TenantUse>();
      const entry = (tenant: string) => use.get(tenant) ?? use.set(tenant, { tenant, dayUsd: 0, monthUsd: 0, holding: 0 }).get(tenant)!;
      for (const tenant of only ?? []) entry(tenant);
      for (const row of spent.rows) Object.assign(entry(row.tenant), { dayUsd: row.dayUsd, monthUsd: row.monthUsd });
      for (const row of holding.rows) entry(row.tenant).holding = row.holding;
      return use;
    },
  };
}
