import { Client } from '@temporalio/client';
import { connectTemporalClient } from '../temporal-connection/connect.js';
import { TemporalConnectionError } from '../temporal-connection/connect-failure.js';
import { ConfigError } from '../config/config.js';
import { resolveConfig } from '../config/resolve-config.js';
import { createPool } from '../db/pool.js';
import { dataConverterOptions, payloadCodecFromConfig } from '../payload-codec/data-converter.js';
import { redactedAddress } from '../config/server-address.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { LifelineUnavailableError } from './client-errors.js';
import { LifelineClient } from './lifeline-client.js';
import { tracingClientInterceptors } from '../tracing/client-tracing.js';

export interface ConnectedLifeline {
  lifeline: LifelineClient;
  /** Ends the Temporal connection and the Postgres pool, so that the process can exit. */
  close(): Promise<void>;
}

/**
 * A LifelineClient built from Lifeline's configuration: the environment (docs/configuration.md),
 * and for what it leaves unset the addresses `npm start` wrote to its stack file, so a script
 * beside a running `npm start` needs no variables at all.
 */
export async function connectLifeline(opts: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<ConnectedLifeline> {
  const { config, stackFile } = resolveConfig(opts.env);
  const hint = stackFile ? ` (addresses from ${stackFile}: is \`npm start\` still running?)` : '';
  if (!config.temporal.address)
    throw new ConfigError(
      'no Temporal configured: set TEMPORAL_ADDRESS (or LIFELINE_TEMPORAL_ADDRESS, or TEMPORAL_PROFILE), or run `npm start`',
    );
  if (!config.databaseUrl) throw new ConfigError('no Postgres configured: set DATABASE_URL, or run `npm start`');
  const connection = await connectTemporalClient(config.temporal).catch((err: unknown) => {
    // A server that does not answer may answer later; a refused certificate or key will not.
    if (err instanceof TemporalConnectionError && err.reason === 'unreachable')
      throw new LifelineUnavailableError(`${err.message}${hint}`, { cause: err });
    throw err instanceof TemporalConnectionError ? new ConfigError(err.message, { cause: err }) : err;
  });
  const pool = createPool(config.databaseUrl, opts.log ?? silentLogger(), 4);
  await pool.query('SELECT 1').catch(async (err: Error) => {
    await Promise.allSettled([pool.end(), connection.close()]);
    throw new LifelineUnavailableError(`cannot reach Postgres at ${redactedAddress(config.databaseUrl!)}: ${err.message}${hint}`, {
      cause: err,
    });
  });
  const lifeline = new LifelineClient({
    temporal: new Client({
      connection,
      namespace: config.temporal.namespace,
      ...dataConverterOptions(payloadCodecFromConfig(config)),
      interceptors: tracingClientInterceptors(),
    }),
    pool,
    taskQueue: config.temporal.taskQueue,
    schedulePolicy: config.schedulePolicy,
  });
  return {
    lifeline,
    async close() {
      await Promise.allSettled([pool.end(), connection.close()]);
    },
  };
}
