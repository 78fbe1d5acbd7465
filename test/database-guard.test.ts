import { randomBytes } from 'node:crypto';
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { readdirSync } from 'node:fs';
import { migrate, migrationsDir } from '../src/db/migrate.js';
import { canTransition, executionStatuses, isTerminal, terminalStatuses, type ExecutionStatus } from '../src/domain/execution-status.js';
import { createExecutionStore, type NewExecution } from '../src/store/execution-store.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { createEmptyDatabase, type PrivateDatabase } from './support/private-database.js';

/** Every migration, in the order node-pg-migrate applies them. */
const allMigrations = readdirSync(migrationsDir)
  .filter((f) => f.endsWith('.sql'))
  .map((f) => f.replace(/\.sql$/, ''))
  .sort();

const suffix = randomBytes(4).toString('hex');
const agent = `guard-${suffix}`;
let ids = 0;
const newId = (label: string) => `guard-${suffix}-${label}-${++ids}`;

/** The error a failed statement rejected with, or a failed assertion when it did not fail. */
async function failureOf(p: Promise<unknown>): Promise<pg.DatabaseError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(pg.DatabaseError);
    return err as pg.DatabaseError;
  }
  throw new Error('expected the statement to be refused, but it succeeded');
}

/** Refused by the executions_guard trigger (not by a CHECK constraint, which shares SQLSTATE 23514). */
function expectGuardRefusal(err: pg.DatabaseError): void {
  expect(err.code).toBe('23514');
  expect(err.where ?? '').toContain('executions_guard');
}

describe('the database guards executions', () => {
  let pool: pg.Pool;

  /** A row inserted directly in `status`, with what the CHECK constraints require of it. */
  async function insertRow(status: ExecutionStatus, label: string = status): Promise<string> {
    const id = newId(label);
    const terminal = isTerminal(status);
    await pool.query(
      `INSERT INTO executions (id, agent, status, prompt, trigger, busy_policy, timeout_seconds, finished_at, error_kind, error)
       VALUES ($1, $2, $3, 'p', 'test', 'skip', 60, $4, $5, $6)`,
      [
        id,
        agent,
        status,
        terminal ? new Date() : null,
        terminal && status !== 'succeeded' ? 'agent_failed' : null,
        terminal && status !== 'succeeded' ? 'it failed' : null,
      ],
    );
    return id;
  }

  /** Moves a row to `to`, setting the fields a row in `to` must carry. */
  function updateStatus(id: string, to: ExecutionStatus): Promise<pg.QueryResult> {
    return pool.query(
      `UPDATE executions SET status = $2::execution_status,
         finished_at = CASE WHEN execution_status_is_terminal($2::execution_status) THEN now() END,
         error_kind = CASE WHEN execution_status_is_terminal($2::execution_status) AND $2 <> 'succeeded'
                           THEN 'agent_failed' END
       WHERE id = $1`,
      [id, to],
    );
  }

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
    await pool.query(
      `INSERT INTO agents (name, base_url, token_source, token_ref, capacity) VALUES ($1, 'http://127.0.0.1:1', 'literal', 'token', 1)`,
      [agent],
    );
  });

  afterAll(async () => {
    if (!pool) return;
    // DELETE is not guarded (only UPDATE is), and transitions go with their execution.
    await pool.query('DELETE FROM executions WHERE agent = $1', [agent]);
    await pool.query('DELETE FROM agents WHERE name = $1', [agent]);
    await pool.end();
  });

  it('refuses any update to a terminal row', async () => {
    for (const status of terminalStatuses) {
      const id = await insertRow(status);
      expectGuardRefusal(await failureOf(pool.query(`UPDATE executions SET status = 'running', finished_at = NULL WHERE id = $1`, [id])));
      expectGuardRefusal(await failureOf(pool.query(`UPDATE executions SET error = 'rewritten' WHERE id = $1`, [id])));
      expectGuardRefusal(await failureOf(pool.query(`UPDATE executions SET output = 'late output' WHERE id = $1`, [id])));
      const other = terminalStatuses.find((s) => s !== status)!;
      expectGuardRefusal(await failureOf(updateStatus(id, other)));

      const { rows } = await pool.query<{ status: string; error: string | null; output: string | null }>(
        'SELECT status, error, output FROM executions WHERE id = $1',
        [id],
      );
      expect(rows[0]).toEqual({ status, error: status === 'succeeded' ? null : 'it failed', output: null });
    }
  });

  it('allows a status change exactly when canTransition allows it', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const from of executionStatuses) {
      for (const to of executionStatuses) {
        if (from === to) continue;
        const id = await insertRow(from, `${from}-${to}`);
        let allowed = true;
        try {
          await updateStatus(id, to);
        } catch (err) {
          expectGuardRefusal(err as pg.DatabaseError);
          allowed = false;
        }
        outcomes.push(`${from}->${to}: ${allowed}`);
        expected.push(`${from}->${to}: ${canTransition(from, to)}`);
        const { rows } = await pool.query<{ status: string }>('SELECT status FROM executions WHERE id = $1', [id]);
        expect(rows[0]!.status).toBe(allowed ? to : from);
      }
    }
    expect(outcomes).toEqual(expected);
    // The state machine is not empty in either place: both directions are exercised.
    expect(outcomes.filter((o) => o.endsWith('true'))).toHaveLength(9);
  });

  it('keeps the SQL transition table identical to the code one, and a same-status write is final only when terminal', async () => {
    const { rows } = await pool.query<{ f: ExecutionStatus; t: ExecutionStatus; allowed: boolean }>(
      `SELECT f::text AS f, t::text AS t, execution_transition_allowed(f, t) AS allowed
       FROM unnest(enum_range(NULL::execution_status)) f, unnest(enum_range(NULL::execution_status)) t`,
    );
    expect(rows).toHaveLength(executionStatuses.length ** 2);
    for (const r of rows)
      expect({ pair: `${r.f}->${r.t}`, allowed: r.allowed }).toEqual({ pair: `${r.f}->${r.t}`, allowed: canTransition(r.f, r.t) });

    // Writing the same status again is no transition: fine on a live row, refused on a terminal one.
    for (const status of executionStatuses) {
      const id = await insertRow(status, `same-${status}`);
      if (isTerminal(status)) expectGuardRefusal(await failureOf(updateStatus(id, status)));
      else expect((await updateStatus(id, status)).rowCount).toBe(1);
    }
  });

  it('allows only one terminal transition per execution in the audit log', async () => {
    const id = await insertRow('queued', 'audit');
    const audit = (from: ExecutionStatus | null, to: ExecutionStatus) =>
      pool.query(`INSERT INTO execution_transitions (execution_id, from_status, to_status, actor) VALUES ($1, $2, $3, 'workflow')`, [
        id,
        from,
        to,
      ]);
    await audit(null, 'queued');
    await audit('queued', 'running');
    await audit('running', 'succeeded');
    for (const to of terminalStatuses) {
      const err = await failureOf(audit('running', to));
      expect(err.code).toBe('23505');
      expect(err.constraint).toBe('execution_transitions_one_terminal_idx');
    }
    // Non-terminal records are not limited.
    await audit('queued', 'running');
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM execution_transitions WHERE execution_id = $1 AND execution_status_is_terminal(to_status)`,
      [id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('uses the partial index for live rows', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // A tiny table is cheaper to scan; forbid that so the planner shows which index serves the query.
      await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM executions WHERE status IN ('queued', 'running')`,
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('executions_live_idx');
      const { rows: index } = await client.query<{ def: string }>(`SELECT pg_get_indexdef('executions_live_idx'::regclass) AS def`);
      expect(index[0]!.def).toMatch(/WHERE \(status = ANY/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('migrations', () => {
  const databases: PrivateDatabase[] = [];

  /** A fresh empty database on the same server, so the first migration run really applies something. */
  async function freshDatabase(label: string): Promise<string> {
    const db = await createEmptyDatabase(`migrate_${label}`);
    databases.push(db);
    return db.url;
  }

  async function tablesIn(url: string): Promise<string[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      return rows.map((r) => r.t);
    } finally {
      await c.end();
    }
  }

  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  const tables = ['agents', 'execution_transitions', 'executions', 'pgmigrations', 'slot_holds', 'tenant_spend_days', 'tenants'];

  it('applies nothing on the already migrated test database', async () => {
    const log = silentLogger();
    expect(await migrate(inject('databaseUrl'), log)).toEqual([]);
    expect(await Promise.all([migrate(inject('databaseUrl'), log), migrate(inject('databaseUrl'), log)])).toEqual([[], []]);
    expect(await tablesIn(inject('databaseUrl'))).toEqual(expect.arrayContaining(tables));
  });

  it('applies each migration once when run twice in a row on a fresh database', async () => {
    const url = await freshDatabase('seq');
    const log = silentLogger();
    expect(await migrate(url, log)).toEqual(allMigrations);
    expect(await migrate(url, log)).toEqual([]);
    expect(await tablesIn(url)).toEqual(tables);
  });

  it('applies each migration once when two runs race on a fresh database', async () => {
    const url = await freshDatabase('par');
    const log = silentLogger();
    const results = await Promise.all([migrate(url, log), migrate(url, log)]);
    expect(results.flat()).toEqual(allMigrations);
    expect(await migrate(url, log)).toEqual([]);
    expect(await tablesIn(url)).toEqual(tables);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ name: string }>('SELECT name FROM pgmigrations');
      expect(rows.map((r) => r.name)).toEqual(allMigrations);
    } finally {
      await c.end();
    }
  });

  it('a run that finds another run holding the migration lock waits for it instead of failing', async () => {
    const url = await freshDatabase('lock');
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      // Stands in for another worker that is in the middle of migrating.
      await holder.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
      let settled: { ok: string[] } | { err: Error } | undefined;
      const run = migrate(url, silentLogger()).then(
        (ok) => (settled = { ok }),
        (err: Error) => (settled = { err }),
      );
      await waitUntil(
        async () => {
          if (settled) return true;
          const { rows } = await holder.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks
             WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          );
          return rows[0]!.n > 0;
        },
        { what: 'the second migration run to wait for the lock (or to give up)', timeoutMs: 10_000, intervalMs: 20 },
      );
      expect(settled).toBeUndefined();
      await holder.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]);
      await run;
      expect(settled).toEqual({ ok: allMigrations });
    } finally {
      await holder.end();
    }
  });
});

describe('the execution store', () => {
  let pool: pg.Pool;
  const storeAgent = `store-${suffix}`;
  const newExecution = (label: string): NewExecution => ({
    id: newId(label),
    agent: storeAgent,
    prompt: 'succeed',
    trigger: 'test',
    busyPolicy: 'skip',
    timeoutSeconds: 60,
  });

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 6 });
    await pool.query(
      `INSERT INTO agents (name, base_url, token_source, token_ref, capacity) VALUES ($1, 'http://127.0.0.1:1', 'literal', 'token', 1)`,
      [storeAgent],
    );
  });

  afterAll(async () => {
    if (!pool) return;
    await pool.query('DELETE FROM executions WHERE agent = $1', [storeAgent]);
    await pool.query('DELETE FROM agents WHERE name = $1', [storeAgent]);
    await pool.end();
  });

  it('creates a row once, with one audit record, however often create is called', async () => {
    const store = createExecutionStore(pool, { maxOutputBytes: 1024 * 1024 });
    const input = newExecution('create');
    const first = await store.create(input);
    const second = await store.create({ ...input, prompt: 'another prompt' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.row.prompt).toBe('succeed');
    expect(second.row.status).toBe('queued');

    const raced = await Promise.all([store.create(newExecution('unused')), store.create(input), store.create(input)]);
    expect(raced.slice(1).map((r) => r.created)).toEqual([false, false]);

    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM executions WHERE id = $1', [input.id]);
    expect(rows[0]!.n).toBe(1);
    const audit = await store.transitions(input.id);
    expect(audit.map((t) => `${t.fromStatus ?? '-'}>${t.toStatus}`)).toEqual(['->queued']);
  });

  it('applies a terminal transition once; a second is a no-op reporting the terminal status', async () => {
    const store = createExecutionStore(pool, { maxOutputBytes: 1024 * 1024 });
    const { id } = newExecution('terminal');
    await store.create({ ...newExecution('x'), id });
    expect(await store.transition(id, 'running', { actor: 'workflow' })).toMatchObject({ applied: true, from: 'queued', to: 'running' });

    const first = await store.transition(id, 'succeeded', { actor: 'workflow', outcome: { exitCode: 0 } });
    expect(first).toMatchObject({ applied: true, from: 'running', to: 'succeeded' });
    const again = await store.transition(id, 'succeeded', { actor: 'workflow' });
    expect(again).toEqual({ applied: false, current: 'succeeded', to: 'succeeded' });
    const late = await store.transition(id, 'failed', {
      actor: 'reconciler',
      outcome: { errorKind: 'closed_outside_workflow', error: 'too late' },
    });
    expect(late).toEqual({ applied: false, current: 'succeeded', to: 'failed' });

    const row = await store.get(id);
    expect(row).toMatchObject({ status: 'succeeded', errorKind: null, error: null, exitCode: 0 });
    expect(row!.finishedAt).toBeInstanceOf(Date);
    const audit = await store.transitions(id);
    expect(audit.map((t) => `${t.fromStatus ?? '-'}>${t.toStatus}`)).toEqual(['->queued', 'queued>running', 'running>succeeded']);
    expect(audit.filter((t) => isTerminal(t.toStatus))).toHaveLength(1);
  });

  it('lets exactly one of two racing terminal writers win', async () => {
    const store = createExecutionStore(pool, { maxOutputBytes: 1024 * 1024 });
    const input = newExecution('race');
    await store.create(input);
    await store.transition(input.id, 'running', { actor: 'workflow' });
    const results = await Promise.all([
      store.transition(input.id, 'succeeded', { actor: 'workflow' }),
      store.transition(input.id, 'failed', { actor: 'reconciler', outcome: { errorKind: 'closed_outside_workflow', error: 'x' } }),
      store.transition(input.id, 'timed_out', { actor: 'workflow', outcome: { errorKind: 'deadline_exceeded', error: 'x' } }),
    ]);
    const winners = results.filter((r) => r.applied);
    expect(winners).toHaveLength(1);
    const final = (await store.get(input.id))!.status;
    expect(winners[0]!.to).toBe(final);
    for (const r of results.filter((r) => !r.applied)) expect(r).toMatchObject({ applied: false, current: final });
    expect((await store.transitions(input.id)).filter((t) => isTerminal(t.toStatus))).toHaveLength(1);
  });

  it('caps a large output with a truncation marker and records its full size', async () => {
    const maxOutputBytes = 1024 * 1024;
    const store = createExecutionStore(pool, { maxOutputBytes });
    const input = newExecution('output');
    await store.create(input);
    await store.transition(input.id, 'running', { actor: 'workflow' });

    const full = 'x'.repeat(5 * 1024 * 1024);
    const saved = await store.saveOutput(input.id, full);
    expect(saved).toEqual({ truncated: true, bytes: full.length });

    const row = (await store.get(input.id))!;
    expect(row.outputTruncated).toBe(true);
    expect(row.outputBytes).toBe(5 * 1024 * 1024);
    const marker = /\n\[lifeline: output truncated, kept (\d+) of 5242880 bytes\]$/;
    expect(row.output).toMatch(marker);
    const kept = Number(marker.exec(row.output!)![1]);
    expect(kept).toBeLessThanOrEqual(maxOutputBytes);
    expect(kept).toBeGreaterThan(0);
    const markerBytes = Buffer.byteLength(marker.exec(row.output!)![0]);
    expect(Buffer.byteLength(row.output!)).toBeLessThanOrEqual(maxOutputBytes + markerBytes);
    expect(Buffer.byteLength(row.output!)).toBe(kept + markerBytes);
  });
});
