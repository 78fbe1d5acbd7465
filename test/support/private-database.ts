import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { silentLogger } from '../../src/util/logger.js';
import { uniqueSuffix } from './lifeline-harness.js';

export interface PrivateDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** An empty database of its own on the shared Postgres server, for a test that migrates it itself. */
export async function createEmptyDatabase(label: string): Promise<PrivateDatabase> {
  const name = `lifeline_${label}_${uniqueSuffix()}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
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
