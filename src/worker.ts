import { Client, type Connection } from '@temporalio/client';
import getPort from 'get-port';
import { pathToFileURL } from 'node:url';
import { buildLifelineDeps } from './wiring/build-lifeline-deps.js';
import { ConfigError, describeConfig, loadConfig, type LifelineConfig } from './config/config.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createRedis, redisFailureReason } from './db/redis.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { startCodecServer } from './payload-codec/codec-server.js';
import { dataConverterOptions, payloadCodecFromConfig, workerDataConverterOptions } from './payload-codec/data-converter.js';
import { createLifelineWorker } from './temporal/lifeline-worker.js';
import { makeCurrentIfFirst } from './temporal-api/worker-deployment.js';
import { ensureReconcilerSchedule } from './temporal/reconciler-schedule.js';
import { connectTemporalClient } from './temporal-connection/connect.js';
import { connectTemporalWorker } from './temporal-connection/connect-worker.js';
import { TemporalConnectionError } from './temporal-connection/connect-failure.js';
import { logServerCapabilities } from './temporal-prerequisites/server-capabilities.js';
import { missingSearchAttributes, searchAttributeSetupCommands } from './temporal-prerequisites/search-attribute-usable.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { createLogger, type Logger } from './util/logger.js';
import { reachOrExplain, redactedAddress } from './config/server-address.js';
import { tracingClientInterceptors } from './tracing/client-tracing.js';
import { PortInUseError } from './util/listen.js';
import { startTracingFromEnv, type Tracing } from './tracing/tracing.js';

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  metricsUrl: string | undefined;
  /** Graceful stop: in-flight activities get the shutdown grace time, then everything is closed. */
  stop(): Promise<void>;
}

type ReadyConfig = LifelineConfig & { temporal: { address: string }; databaseUrl: string; redisUrl: string };

/**
 * The workflows upsert Lifeline's search attributes; on a namespace without one of them every
 * workflow task would fail. A worker only checks (it needs no right to change the namespace):
 * `lifeline setup` adds them, or an operator does with the commands printed here.
 */
async function checkSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) return;
  throw new ConfigError(
    [
      `namespace ${namespace} lacks Lifeline's search attributes ${missing.join(', ')}: run \`lifeline setup\` with admin rights on the namespace, or have an operator run:`,
      ...searchAttributeSetupCommands(namespace).map((line) => `  ${line}`),
    ].join('\n'),
  );
}

/**
 * Starts a Lifeline worker: migrations, workflows and activities on the configured task queue, the
 * reconciler schedule (and one cycle now, for startup recovery), and the metrics endpoint.
 */
export async function startWorker(
  config: ReadyConfig,
  log: Logger,
  options: { workflowBundlePath?: string; identity?: string; tracing?: Tracing; metricsPortPreferred?: boolean } = {},
): Promise<RunningWorker> {
  const sdkMetricsPort = config.metricsPort ? await getPort({ host: '127.0.0.1' }) : undefined;
  installTemporalRuntime(log, sdkMetricsPort);
  // Migrations hold a session lock: through a transaction-mode pooler they need a direct URL of their own.
  const migrationsUrl = config.migrationsDatabaseUrl ?? config.databaseUrl;
  const migrationsField = migrationsUrl === config.databaseUrl ? 'DATABASE_URL' : 'LIFELINE_MIGRATIONS_DATABASE_URL';
  await reachOrExplain('Postgres', redactedAddress(migrationsUrl), migrationsField, () => migrate(migrationsUrl, log));
  const pool = createPool(config.databaseUrl, log);
  const redis = createRedis(config.redisUrl, log, { caFile: config.redisCaFile });
  const ping = () => redis.ping().catch((err: unknown) => Promise.reject(new Error(redisFailureReason(redis, err))));
  await reachOrExplain('Redis', redactedAddress(config.redisUrl), 'REDIS_URL', ping).catch((err: unknown) => {
    redis.disconnect();
    throw err;
  });
  const codec = payloadCodecFromConfig(config);
  const clientConnection = await connectTemporalClient(config.temporal);
  const client = new Client({
    connection: clientConnection,
    namespace: config.temporal.namespace,
    ...dataConverterOptions(codec),
    interceptors: tracingClientInterceptors(),
  });
  const connection = await (async () => {
    await checkSearchAttributes(clientConnection, config.temporal.namespace);
    await logServerCapabilities(clientConnection, config, log);
    return connectTemporalWorker(config.temporal);
  })().catch(async (err: unknown) => {
    await clientConnection.close();
    redis.disconnect();
    await pool.end();
    throw err;
  });
  const draining = new AbortController();
  const deps = buildLifelineDeps({
    draining: draining.signal,
    pool,
    redis,
    workflows: client.workflow,
    config,
    log,
  });
  const { worker, buildId } = await createLifelineWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps,
    // A prebuilt bundle carries Temporal's default failure converter; with a codec, the workflows are
    // bundled here with the encrypting one instead.
    workflowBundlePath: codec ? undefined : options.workflowBundlePath,
    identity: options.identity,
    tracing: options.tracing,
    maxConcurrentRuns: config.maxConcurrentRuns,
    versioning: config.versioning,
    ...workerDataConverterOptions(codec),
  });
  const metrics = config.metricsPort
    ? await startMetricsServer({
        port: config.metricsPort,
        orAnyFreePort: options.metricsPortPreferred,
        host: config.listenHost,
        registry: deps.metrics.registry,
        sdkMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics`,
        log,
      })
    : undefined;
  const codecServer =
    codec && config.codec.port
      ? await startCodecServer({
          ...config.codec,
          port: config.codec.port,
          host: config.listenHost,
          codec,
          log: log.child({ component: 'codec-server' }),
        })
      : undefined;
  const done = worker.run().finally(async () => {
    await metrics?.close();
    await codecServer?.close();
    await connection.close();
    await clientConnection.close();
    redis.disconnect();
    await pool.end();
  });
  if (config.versioning && buildId) await makeCurrentIfFirst(client, config.versioning.deploymentName, buildId, log);
  if (config.reconciler.intervalSeconds > 0) {
    const schedule = await ensureReconcilerSchedule(client, {
      taskQueue: config.temporal.taskQueue,
      intervalSeconds: config.reconciler.intervalSeconds,
    });
    await schedule.trigger();
  }
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      metricsUrl: metrics?.url,
      payloadEncryption: codec ? 'on' : 'off',
      deployment: config.versioning ? `${config.versioning.deploymentName} build ${buildId}` : 'unversioned',
      codecUrl: codecServer?.url,
      traces: options.tracing ? 'exported (OTEL_*)' : 'off',
    },
    'worker started',
  );
  return {
    done,
    metricsUrl: metrics?.url,
    async stop() {
      draining.abort();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('lifeline-worker', config.logLevel);
  const { address } = config.temporal;
  const { databaseUrl, redisUrl } = config;
  const missing = [
    !address && 'TEMPORAL_ADDRESS (or LIFELINE_TEMPORAL_ADDRESS, or a temporal.toml profile)',
    !databaseUrl && 'DATABASE_URL',
    !redisUrl && 'REDIS_URL',
  ].filter(Boolean);
  if (!address || !databaseUrl || !redisUrl) {
    throw new ConfigError(`the worker needs ${missing.join(', ')} (\`npm start\` sets them up for a local stack)`);
  }
  log.info({ config: describeConfig(config) }, 'configuration');
  const tracing = startTracingFromEnv('lifeline-worker');
  const running = await startWorker({ ...config, temporal: { ...config.temporal, address }, databaseUrl, redisUrl }, log, {
    workflowBundlePath: process.env.LIFELINE_WORKFLOW_BUNDLE,
    identity: process.env.LIFELINE_WORKER_IDENTITY,
    tracing,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down the worker');
      void running.stop();
    });
  }
  await running.done.finally(() => tracing?.shutdown());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(
      err instanceof ConfigError || err instanceof TemporalConnectionError || err instanceof PortInUseError ? err.message : err,
    );
    process.exit(1);
  });
}
