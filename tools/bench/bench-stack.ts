import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection } from '@temporalio/worker';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { createPool } from '../../src/db/pool.js';
import { createRedis } from '../../src/db/redis.js';
import { startScratchStack, type DevStack } from '../../src/stack/dev-stack.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { writeWorkflowBundle } from '../../src/temporal/workflow-bundle.js';
import { pino } from 'pino';
import { createLogger, type Logger } from '../../src/util/logger.js';

const benchWorkflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface BenchStack {
  dir: string;
  log: Logger;
  stack: DevStack;
  pool: pg.Pool;
  redis: Redis | Cluster;
  temporal: Client;
  nativeConnection: NativeConnection;
  /** Lifeline's workflows, bundled once for the in-process worker and the worker child processes. */
  lifelineBundlePath: string;
  /** The bench's own workflows (bare baseline, parked). */
  benchBundlePath: string;
  close(): Promise<void>;
}

async function bundle(entry: string, file: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('WARN') });
  writeFileSync(file, code);
  return file;
}

/** Ctrl-C (or SIGTERM) stops the stack and removes its temp dir before the benchmark exits. */
export function removeOnInterrupt(bs: BenchStack): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the bench stack and removing ${bs.dir}\n`);
      void bs.close().finally(() => process.exit(130));
    });
  }
}

/** What a worker process of the bench needs to serve `taskQueue` on the bench stack, with `extra` settings. */
export function benchWorkerEnv(bs: BenchStack, taskQueue: string, extra: Record<string, string>): Record<string, string> {
  return {
    LIFELINE_TEMPORAL_ADDRESS: bs.stack.temporalAddress,
    LIFELINE_TEMPORAL_NAMESPACE: bs.stack.namespace,
    LIFELINE_TASK_QUEUE: taskQueue,
    DATABASE_URL: bs.stack.databaseUrl,
    REDIS_URL: bs.stack.redisUrl,
    LIFELINE_WORKFLOW_BUNDLE: bs.lifelineBundlePath,
    LIFELINE_METRICS_PORT: '0',
    LIFELINE_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A private, throwaway stack (Temporal dev server, Postgres without fsync, Redis) in a temp dir. */
export async function startBenchStack(): Promise<BenchStack> {
  // On stderr with the progress lines: stdout carries only the results.
  const log = createLogger('bench', process.env.LIFELINE_LOG_LEVEL ?? 'warn', pino.destination(2));
  // The in-process workers run as the production worker does (`node dist/worker.js`): without the
  // source maps tsx turns on. With them, the SDK's stack capture of every workflow promise also
  // parses source maps, a cost no deployed worker pays and that would weigh on Lifeline's figures most.
  process.setSourceMapsEnabled(false);
  installTemporalRuntime(log);
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const bundles = Promise.all([
    // Bundled as every worker bundles it, its workflow interceptors included.
    writeWorkflowBundle(join(dir, 'lifeline-workflows.js')),
    bundle(benchWorkflowsPath, join(dir, 'bench-workflows.js')),
  ]);
  bundles.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
  const stack = await startScratchStack(dir, log);
  let lifelineBundlePath: string, benchBundlePath: string;
  try {
    [lifelineBundlePath, benchBundlePath] = await bundles;
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const pool = createPool(stack.databaseUrl, log, 20);
  const redis = createRedis(stack.redisUrl, log);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const temporal = new Client({ connection, namespace: stack.namespace });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  return {
    dir,
    log,
    stack,
    pool,
    redis,
    temporal,
    nativeConnection,
    lifelineBundlePath,
    benchBundlePath,
    async close() {
      await nativeConnection.close();
      await connection.close();
      redis.disconnect();
      await pool.end();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
