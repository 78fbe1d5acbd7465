import { Client, Connection } from '@temporalio/client';
import { ConfigError } from '../config/config.js';
import { resolveConfig } from '../config/resolve-config.js';
import { createPool } from '../db/pool.js';
import { dataConverterOptions, payloadCodecFromConfig } from '../payload-codec/data-converter.js';
import { redactedAddress } from '../util/server-address.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { LifelineUnavailableError } from './client-errors.js';
import { LifelineClient } from './lifeline-client.js';

export interface ConnectedLifeline {
  lifeline: LifelineClient;
  /** Ends the Temporal connection and the Postgres pool, so that the process can exit. */
  close(): Promise<void>;
}

/**
 * A LifelineClient built from Lifeline's configuration: the environment (README: Configuration),
 * and for what it leaves unset the addresses `npm start` wrote to its stack file, so a script
 * beside a running `npm start` needs no variables at all.
 */
export async function connectLifeline(opts: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<ConnectedLifeline> {
  const { config, stackFile } = resolveConfig(opts.env);
  const hint = stackFile ? ` (addresses from ${stackFile}: is \`npm start\` still running?)` : '';
  const { address } = config.temporal;
  if (!address) throw new ConfigError('no Temporal configured: set LIFELINE_TEMPORAL_ADDRESS, or run `npm start`');
  if (!config.databaseUrl) throw new ConfigError('no Postgres configured: set DATABASE_URL, or run `npm start`');
  const connection = await Connection.connect({ address }).catch((err: Error) => {
    throw new LifelineUnavailableError(`cannot reach Temporal at ${address}: ${err.message}${hint}`, { cause: err });
  });
  const pool = createPool(config.databaseUrl, opts.log ?? silentLogger(), 4);
  await pool.query('SELECT 1').catch(async (err: Error) => {
    await Promise.allSettled([pool.end(), connection.close()]);
    throw new LifelineUnavailableError(`cannot reach Postgres at ${redactedAddress(config.databaseUrl!)}: ${err.message}${hint}`, {
      cause: err,
    });
  });
  const lifeline = new LifelineClient({
    temporal: new Client({ connection, namespace: config.temporal.namespace, ...dataConverterOptions(payloadCodecFromConfig(config)) }),
    pool,
    taskQueue: config.temporal.taskQueue,
  });
  return {
    lifeline,
    async close() {
      await Promise.allSettled([pool.end(), connection.close()]);
    },
  };
}
