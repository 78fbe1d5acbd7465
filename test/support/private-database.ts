import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { migrate, migrationsDir } from '../../src/db/migrate.js';
import { silentLogger } from '../../src/util/logger.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { uniqueSuffix } from './lifeline-harness.js';

export interface PrivateDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/**
 * Drops the database. A client ended a moment ago (node-pg-migrate ends its own without waiting)
 * may still be connected: FORCE would turn its last moments into an uncaught error event, so the
 * drop first waits a little for the database to have no connection.
 */
async function dropDatabase(name: string): Promise<void> {
  await waitUntil(
    async () => Number((await admin('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0].n) === 0,
    { what: `the connections to ${name} to close`, timeoutMs: 5000, intervalMs: 50 },
  ).catch(() => undefined);
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** An empty database of its own on the shared Postgres server, for a test that migrates it itself. */
export async function createEmptyDatabase(label: string): Promise<PrivateDatabase> {
  const name = `lifeline_${label}_${uniqueSuffix()}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropDatabase(name) };
}

/**
 * A migrated database of its own on the shared Postgres server, for a test file whose commands act
 * on every row (a reconcile cycle), so that neither it nor the files running beside it see the
 * other's executions.
 */
export async function createPrivateDatabase(label: string): Promise<PrivateDatabase> {
  const db = await createEmptyDatabase(label);
  await migrate(db.url, silentLogger());
  return db;
}

/** A database migrated one step at a time by its test: an empty one, with a pool on it. */
export interface SteppedDatabase {
  readonly pool: pg.Pool;
  /** Applies (or undoes) the next `count` migrations. */
  migrate(direction: 'up' | 'down', count: number): Promise<unknown>;
}

/**
 * An empty database of its own for a test file about migrations, created before its tests and
 * dropped after them.
 */
export function steppedDatabase(label: string): SteppedDatabase {
  let db: PrivateDatabase | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    db = await createEmptyDatabase(label);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  return {
    get pool() {
      if (!pool) throw new Error('the stepped database is created in beforeAll');
      return pool;
    },
    migrate: (direction, count) =>
      runner({ databaseUrl: db!.url, dir: migrationsDir, direction, count, migrationsTable: 'pgmigrations', log: () => undefined }),
  };
}

/** How many migrations sort before the one whose file name starts with `prefix`. */
export function migrationsBefore(prefix: string): number {
  return readdirSync(migrationsDir).filter((file) => /^\d{4}_/.test(file) && file < prefix).length;
}
