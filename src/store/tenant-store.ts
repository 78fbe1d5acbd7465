import type pg from 'pg';
import { defaultTenantSettings, type TenantSettings } from '../domain/tenants.js';
import { createTenantSpend } from './tenant-spend.js';

const columns = `name, weight::float8 AS weight, priority, max_running AS "maxRunning", max_running_per_agent AS "maxRunningPerAgent",
  daily_budget_usd::float8 AS "dailyBudgetUsd", monthly_budget_usd::float8 AS "monthlyBudgetUsd", over_budget AS "overBudget"`;

/** A change to a tenant's settings: each field given is set, `null` clears a limit or budget. */
export type TenantChange = Partial<Omit<TenantSettings, 'name'>>;

export type TenantStore = ReturnType<typeof createTenantStore>;

/** Tenants' settings in Postgres: what `lifeline tenants set` writes and admission and the slot queue read. */
export function createTenantStore(pool: pg.Pool) {
  return {
    ...createTenantSpend(pool),
    /** The tenant's settings; the defaults for a tenant nobody set. */
    async get(name: string): Promise<TenantSettings> {
      const { rows } = await pool.query<TenantSettings>(`SELECT ${columns} FROM tenants WHERE name = $1`, [name]);
      return rows[0] ?? defaultTenantSettings(name);
    },

    /** Every tenant that has settings, by name. */
    async list(): Promise<TenantSettings[]> {
      const { rows } = await pool.query<TenantSettings>(`SELECT ${columns} FROM tenants ORDER BY name`);
      return rows;
    },

    /** Sets the given fields, the others keeping their values (or defaults), in one transaction; returns the result. */
    async set(name: string, change: TenantChange): Promise<TenantSettings> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
        const current = (await client.query<TenantSettings>(`SELECT ${columns} FROM tenants WHERE name = $1 FOR UPDATE`, [name])).rows[0]!;
        const merged = { ...current, ...change };
        const { rows } = await client.query<TenantSettings>(
          `UPDATE tenants SET weight = $2, priority = $3, max_running = $4, max_running_per_agent = $5, daily_budget_usd = $6,
             monthly_budget_usd = $7, over_budget = $8, updated_at = now()
           WHERE name = $1 RETURNING ${columns}`,
          [
            name,
            merged.weight,
            merged.priority,
            merged.maxRunning,
            merged.maxRunningPerAgent,
            merged.dailyBudgetUsd,
            merged.monthlyBudgetUsd,
            merged.overBudget,
          ],
        );
        await client.query('COMMIT');
        return rows[0]!;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}
