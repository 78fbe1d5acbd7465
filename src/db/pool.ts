import pg from 'pg';
import type { Logger } from '../util/logger.js';
import { redactedAddress } from '../config/server-address.js';
import { UnreachableServerError } from './unreachable-server.js';

export interface PoolOptions {
  /** How long a new connection may take (default 10 s). */
  connectTimeoutMs?: number;
  /** A failed connection throws UnreachableServerError naming Postgres, its address and this variable. */
  variable?: string;
}

/**
 * A pool that survives Postgres restarts: an idle client's connection error is logged instead of
 * crashing the process, and the next query reconnects.
 */
export function createPool(connectionString: string, log: Logger, max = 10, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ...(opts.variable ? { Client: namingFailures(redactedAddress(connectionString), opts.variable) } : {}),
  });
  pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed; it will be replaced'));
  return pool;
}

/** A client whose connection failures say which server and which setting, whoever connects (the pool calls back). */
function namingFailures(address: string, variable: string): typeof pg.Client {
  const named = (err: Error) => new UnreachableServerError('Postgres', address, variable, err.message, { cause: err });
  class NamingClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error, client?: pg.Client) => void): void;
    override connect(callback?: (err: Error, client?: pg.Client) => void): Promise<pg.Client> | void {
      if (callback) return super.connect((err: Error | null, client?: pg.Client) => callback((err && named(err)) as Error, client));
      return super.connect().catch((err: Error) => Promise.reject(named(err)));
    }
  }
  return NamingClient as typeof pg.Client;
}
