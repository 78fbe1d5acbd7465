import { NativeConnection } from '@temporalio/worker';
import { pathToFileURL } from 'node:url';
import { buildActivityDeps } from './activities/build-activity-deps.js';
import { ConfigError, describeConfig, loadConfig, type LifelineConfig } from './config/config.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { createRedis } from './db/redis.js';
import { createLifelineWorker } from './temporal/lifeline-worker.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { createLogger, type Logger } from './util/logger.js';

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  /** Graceful stop: in-flight activities get the shutdown grace time, then everything is closed. */
  stop(): Promise<void>;
}

/** Starts a Lifeline worker: migrations, then workflows and activities on the configured task queue. */
export async function startWorker(
  config: LifelineConfig & { temporal: { address: string }; databaseUrl: string; redisUrl: string },
  log: Logger,
  options: { workflowBundlePath?: string; identity?: string } = {},
): Promise<RunningWorker> {
  installTemporalRuntime(log);
  await migrate(config.databaseUrl, log);
  const pool = createPool(config.databaseUrl, log);
  const redis = createRedis(config.redisUrl, log);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createLifelineWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps: buildActivityDeps({ pool, redis, settings: config.execution, log }),
    workflowBundlePath: options.workflowBundlePath,
    identity: options.identity,
  });
  log.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  const done = worker.run().finally(async () => {
    await connection.close();
    redis.disconnect();
    await pool.end();
  });
  return {
    done,
    async stop() {
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
    !address && 'LIFELINE_TEMPORAL_ADDRESS',
    !databaseUrl && 'DATABASE_URL',
    !redisUrl && 'REDIS_URL',
  ].filter(Boolean);
  if (!address || !databaseUrl || !redisUrl) {
    throw new ConfigError(`the worker needs ${missing.join(', ')} (\`npm start\` sets them up for a local stack)`);
  }
  log.info({ config: describeConfig(config) }, 'configuration');
  const running = await startWorker({ ...config, temporal: { ...config.temporal, address }, databaseUrl, redisUrl }, log, {
    workflowBundlePath: process.env.LIFELINE_WORKFLOW_BUNDLE,
    identity: process.env.LIFELINE_WORKER_IDENTITY,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down the worker');
      void running.stop();
    });
  }
  await running.done;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
