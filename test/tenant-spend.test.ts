import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { createAgentStore } from '../src/store/agent-store.js';
import { createTenantSpend } from '../src/store/tenant-spend.js';
import { migrationsBefore, steppedDatabase } from './support/private-database.js';

type Spend = Record<string, { dayUsd: number; monthUsd: number }>;

/** What a tenant spent as Lifeline computed it before the spend was kept per day: every row of this month, summed. */
async function summedFromRows(pool: pg.Pool): Promise<Spend> {
  const { rows } = await pool.query<{ tenant: string; dayUsd: number; monthUsd: number }>(
    `SELECT tenant,
       coalesce(sum(cost) FILTER (WHERE created_at >= date_trunc('day', now(), 'UTC')), 0)::float8 AS "dayUsd",
       coalesce(sum(cost), 0)::float8 AS "monthUsd"
     FROM (SELECT tenant, created_at,
             CASE WHEN usage->'cost'->>'currency' = 'USD' THEN (usage->'cost'->>'amount')::numeric END AS cost
           FROM executions WHERE created_at >= date_trunc('month', now(), 'UTC')) costs
     GROUP BY tenant`,
  );
  return Object.fromEntries(rows.map((r) => [r.tenant, { dayUsd: r.dayUsd, monthUsd: r.monthUsd }]));
}

const cost = (amount: number, currency = 'USD') => JSON.stringify({ cost: { amount, currency } });

describe('the spend kept per tenant and day (migration 0014), on a real Postgres', () => {
  const db = steppedDatabase('tenant_spend');
  const spend = async (): Promise<Spend> =>
    Object.fromEntries([...(await createTenantSpend(db.pool).use())].map(([t, u]) => [t, { dayUsd: u.dayUsd, monthUsd: u.monthUsd }]));
  let rows = 0;
  const insert = (tenant: string, usage: string | null, createdAt = 'now()') =>
    db.pool.query(
      `INSERT INTO executions (id, agent, prompt, trigger, busy_policy, timeout_seconds, tenant, usage, created_at)
       VALUES ($1, 'spender', 'p', 'manual', 'queue', 60, $2, $3, ${createdAt})`,
      [`row-${++rows}`, tenant, usage],
    );
  const setUsage = (id: string, usage: string | null) => db.pool.query('UPDATE executions SET usage = $2 WHERE id = $1', [id, usage]);

  it('starts from what the rows cost, and follows every change of their usage', async () => {
    await db.migrate('up', migrationsBefore('0014'));
    await createAgentStore(db.pool).upsert({
      name: 'spender',
      baseUrl: 'http://127.0.0.1:9',
      token: literalToken('t'),
      capacity: 1,
      defaultTimeoutSeconds: null,
    });
    await insert('team-a', cost(2)); // row-1
    await insert('team-a', cost(5, 'EUR')); // row-2: another currency counts nothing
    await insert('team-a', cost(7), "now() - interval '40 days'"); // row-3: before this month
    await insert('team-a', cost(0.25), "date_trunc('month', now(), 'UTC')"); // row-4: the month's first instant
    await insert('team-b', null); // row-5: no usage yet
    await db.migrate('up', 1);
    expect(await spend()).toEqual(await summedFromRows(db.pool));
    expect((await spend())['team-a']?.monthUsd).toBe(2.25);
    expect((await spend())['team-b']).toEqual({ dayUsd: 0, monthUsd: 0 });

    // A running run's reports are running totals; a late report may change the currency.
    await setUsage('row-1', cost(3.25));
    await setUsage('row-2', cost(1));
    await setUsage('row-5', cost(0.5));
    await setUsage('row-3', cost(9));
    // One statement adding several rows: what a bulk import does.
    await db.pool.query(
      `INSERT INTO executions (id, agent, prompt, trigger, busy_policy, timeout_seconds, tenant, usage)
       VALUES ('bulk-1', 'spender', 'p', 'manual', 'queue', 60, 'team-c', $1), ('bulk-2', 'spender', 'p', 'manual', 'queue', 60, 'team-c', $2),
         ('bulk-3', 'spender', 'p', 'manual', 'queue', 60, 'team-d', NULL)`,
      [cost(2.5), cost(1.5)],
    );
    await setUsage('row-1', JSON.stringify({ inputTokens: 10 }));
    const after = await spend();
    expect(after).toEqual(await summedFromRows(db.pool));
    expect(after['team-a']?.monthUsd).toBe(1.25);
    expect(after['team-b']).toMatchObject({ monthUsd: 0.5 });
    expect(after['team-c']).toMatchObject({ monthUsd: 4 });
    // A tenant with runs this month is listed even when they cost nothing, as `tenants list` shows it.
    expect(after['team-d']).toEqual({ dayUsd: 0, monthUsd: 0 });
  });
});
