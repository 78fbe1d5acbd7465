import { Client, type Connection } from '@temporalio/client';
import { connectTemporalClient } from '../temporal-connection/connect.js';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { LifelineClient } from '../client/lifeline-client.js';
import type { LifelineConfig } from '../config/config.js';
import { createPool } from '../db/pool.js';
import { createRedis } from '../db/redis.js';
import { dataConverterOptions, payloadCodecFromConfig } from '../payload-codec/data-converter.js';
import { stackFilePath } from '../stack/stack-file.js';
import type { Logger } from '../util/logger.js';
import { resolveConfig } from '../config/resolve-config.js';
import { isUnreachable } from './cli-errors.js';
import { tracingClientInterceptors } from '../tracing/client-tracing.js';

/** What a command uses; each connection is opened on first use, so a command opens only what it needs. */
export interface CliContext {
  config: LifelineConfig;
  log: Logger;
  databaseUrl(): string;
  pool(): pg.Pool;
  redis(): Redis | Cluster;
  temporalConnection(): Promise<Connection>;
  temporal(): Promise<Client>;
  lifeline(): Promise<LifelineClient>;
}

/** Runs a command with its connections and closes them after, whatever happened. */
export async function withCliContext<T>(command: (ctx: CliContext) => Promise<T>): Promise<T> {
  const { config, stackFile } = resolveConfig();
  // Logs go to stderr: stdout carries the command's output, JSON included.
  const log = pino({ name: 'lifeline-cli', level: process.env.LIFELINE_LOG_LEVEL ? config.logLevel : 'warn' }, pino.destination(2));
  const notConfigured = (what: string, variable: string) =>
    new Error(`no ${what} configured: set ${variable}, or run \`npm start\` (it writes ${stackFilePath(config.dataDir)})`);

  let pool: pg.Pool | undefined;
  let redis: Redis | Cluster | undefined;
  let connection: Promise<Connection> | undefined;
  let temporal: Promise<Client> | undefined;
  const ctx: CliContext = {
    config,
    log,
    databaseUrl() {
      if (!config.databaseUrl) throw notConfigured('Postgres', 'DATABASE_URL');
      return config.databaseUrl;
    },
    pool() {
      pool ??= createPool(ctx.databaseUrl(), log, 2);
      return pool;
    },
    redis() {
      if (!config.redisUrl) throw notConfigured('Redis', 'REDIS_URL');
      redis ??= createRedis(config.redisUrl, log, { caFile: config.redisCaFile });
      return redis;
    },
    temporalConnection() {
      if (!config.temporal.address)
        throw notConfigured('Temporal', 'TEMPORAL_ADDRESS (with TEMPORAL_TLS_*, TEMPORAL_API_KEY as needed, or TEMPORAL_PROFILE)');
      connection ??= connectTemporalClient(config.temporal);
      return connection;
    },
    temporal() {
      temporal ??= ctx.temporalConnection().then(
        (c) =>
          new Client({
            connection: c,
            namespace: config.temporal.namespace,
            ...dataConverterOptions(payloadCodecFromConfig(config)),
            interceptors: tracingClientInterceptors(),
          }),
      );
      return temporal;
    },
    async lifeline() {
      return new LifelineClient({
        temporal: await ctx.temporal(),
        pool: ctx.pool(),
        taskQueue: config.temporal.taskQueue,
        schedulePolicy: config.schedulePolicy,
      });
    },
  };
  try {
    return await command(ctx);
  } catch (err) {
    if (stackFile && isUnreachable(err)) {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)} (addresses from ${stackFile}: is \`npm start\` still running?)`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    await Promise.allSettled([pool?.end(), connection?.then((c) => c.close())]);
    redis?.disconnect();
  }
}
