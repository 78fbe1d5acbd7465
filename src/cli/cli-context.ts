import { Client, type Connection } from '@temporalio/client';
import { connectTemporalClient } from '../temporal-connection/connect.js';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { LifelineClient } from '../client/lifeline-client.js';
import type { LifelineConfig } from '../config/config.js';
import { createPool } from '../db/pool.js';
import { createRedis, redisFailureReason } from '../db/redis.js';
import { UnreachableServerError } from '../db/unreachable-server.js';
import { redactedAddress } from '../config/server-address.js';
import { dataConverterOptions, payloadCodecFromConfig } from '../payload-codec/data-converter.js';
import { stackFilePath } from '../config/stack-file.js';
import type { Logger } from '../util/logger.js';
import { resolveConfig } from '../config/resolve-config.js';
import { TemporalConnectionError } from '../temporal-connection/connect-failure.js';
import { tracingClientInterceptors } from '../tracing/client-tracing.js';

/** What a command uses; each connection is opened on first use, so a command opens only what it needs. */
export interface CliContext {
  config: LifelineConfig;
  log: Logger;
  databaseUrl(): string;
  pool(): pg.Pool;
  redis(): Redis | Cluster;
  /** Redis, once it answered a PING (within a few seconds; otherwise UnreachableServerError naming it). */
  readyRedis(): Promise<Redis | Cluster>;
  temporalConnection(): Promise<Connection>;
  temporal(): Promise<Client>;
  lifeline(): Promise<LifelineClient>;
}

/** Runs a command with its connections and closes them after, whatever happened. */
export async function withCliContext<T>(command: (ctx: CliContext) => Promise<T>): Promise<T> {
  const { config, stackFile, fromStack } = resolveConfig();
  // Where a server's address came from: blamed on the stack file only when it came from there.
  const origin = (variable: string) =>
    fromStack.includes(variable) ? `${variable} from ${stackFile}: is \`npm start\` still running?` : variable;
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
      pool ??= createPool(ctx.databaseUrl(), log, 2, { connectTimeoutMs: 4000, variable: origin('DATABASE_URL') });
      return pool;
    },
    redis() {
      if (!config.redisUrl) throw notConfigured('Redis', 'REDIS_URL');
      // Its reconnect warnings are for long-running processes; a command reports the failure itself.
      redis ??= createRedis(config.redisUrl, log.child({}, { level: 'error' }), { caFile: config.redisCaFile }, { failFast: true });
      return redis;
    },
    async readyRedis() {
      const client = ctx.redis();
      await client.ping().catch((err: unknown) => {
        throw new UnreachableServerError('Redis', redactedAddress(config.redisUrl!), origin('REDIS_URL'), redisFailureReason(client, err));
      });
      return client;
    },
    temporalConnection() {
      if (!config.temporal.address)
        throw notConfigured('Temporal', 'TEMPORAL_ADDRESS (with TEMPORAL_TLS_*, TEMPORAL_API_KEY as needed, or TEMPORAL_PROFILE)');
      connection ??= connectTemporalClient(config.temporal, 3500);
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
    if (err instanceof TemporalConnectionError && fromStack.includes('LIFELINE_TEMPORAL_ADDRESS')) {
      throw new Error(`${err.message} (the address is from ${stackFile}: is \`npm start\` still running?)`, { cause: err });
    }
    throw err;
  } finally {
    await Promise.allSettled([pool?.end(), connection?.then((c) => c.close())]);
    redis?.disconnect();
  }
}
