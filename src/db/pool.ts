import pg from 'pg';
import type { Logger } from '../util/logger.js';

/**
 * A pool that survives Postgres restarts: an idle client's connection error is logged instead of
 * crashing the process, and the next query reconnects.
 */
export function createPool(connectionString: string, log: Logger, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed; it will be replaced'));
  return pool;
}
