import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import type { Cluster, Redis } from 'ioredis';
import { literalToken } from '../../src/domain/token-reference.js';
import { leaseMsFor } from '../../src/wiring/build-lifeline-deps.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import { isolatedEnvironment } from '../processes/isolated-environment.js';
import { executionSettingsEnv } from '../processes/settings-env.js';
import { createPool } from '../../src/db/pool.js';
import { createRedis } from '../../src/db/redis.js';
import { createCapacitySlots, type CapacitySlots } from '../../src/slots/capacity-slots.js';
import { createTenantStore, type TenantStore } from '../../src/store/tenant-store.js';
import { startDevStack, type DevStack } from '../../src/stack/dev-stack.js';
import type { PostgresServer } from '../../src/stack/postgres-server.js';
import type { StuckSources } from '../../src/reconciler/stuck-executions.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { writeWorkflowBundle } from '../../src/temporal/workflow-bundle.js';
import { createExecutionReader, type ExecutionReader } from '../../src/store/execution-reader.js';
import { createLogger } from '../../src/util/logger.js';
import { AgentLedger } from './agent-ledger.js';
import { ChaosAgentServer } from './chaos-agent-server.js';
import { ChaosRedis } from './chaos-redis.js';
import { startChaosRealTemporal } from './chaos-temporal.js';
import { chaosSettings, reconcileIntervalSeconds } from './chaos-settings.js';
import type { ChaosOptions } from './options.js';
import { WorkerPool } from './worker-pool.js';

const changedWorkflowsPath = fileURLToPath(new URL('../workflow-change/changed-workflows.ts', import.meta.url));

export interface ChaosEnvironment {
  /** Holds every log of the run. */
  dir: string;
  taskQueue: string;
  /** The Worker Deployment every worker polls as a build of. */
  deploymentName: string;
  /** The released workflow code's bundle, and a changed one for the rollout. */
  bundles: { released: string; changed: string };
  reconcileGraceSeconds: number;
  postgres: PostgresServer;
  /** A Sentinel set (master, replica, three sentinels) that Lifeline reaches by `redis+sentinel://`. */
  redis: ChaosRedis;
  /** The private Temporal server (restartable), or none when the run was given a server. */
  temporalServer: { restart(): Promise<void> } | undefined;
  agentServer: ChaosAgentServer;
  workers: WorkerPool;
  ledger: AgentLedger;
  executions: ExecutionReader;
  /** Where `lifeline executions problems` would look for the run's stuck executions. */
  stuckSources: StuckSources;
  slots: CapacitySlots;
  /** Where the run's tenants are given their settings. */
  tenants: TenantStore;
  temporal: Client;
  client: LifelineClient;
  /** Stops every process the run started; `keepDir` keeps the logs. */
  stop(keepDir: boolean): Promise<void>;
}

/**
 * A private Lifeline for one chaos run, on loopback in a temp dir: Postgres (restartable), Redis
 * as a Sentinel set (restartable, failing over),
 * a Temporal dev server unless one is given, the reference agent server and the worker processes.
 */
export async function startChaosEnvironment(
  options: ChaosOptions,
  opts: { runId: string; reconcileGraceSeconds: number; progress: (line: string) => void },
): Promise<ChaosEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-chaos-'));
  // Only what needs a reader: the run's restarts make the servers' clients warn all the time.
  const log = createLogger('chaos-stack', 'error');
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const stop = async (keepDir: boolean) => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    opts.progress(`starting the stack in ${dir}`);
    const realServer = options.temporal === 'server' && !options.temporalAddress;
    // With --temporal server the stack starts no dev server: the real one below runs on its Postgres.
    const chaosRedis = await ChaosRedis.start(join(dir, 'redis-sentinel'));
    cleanups.push(() => chaosRedis.stop());
    const stack: DevStack = await startDevStack({
      dir,
      log,
      namespace: 'default',
      ephemeral: true,
      temporalAddress: realServer ? 'real-temporal-server:0' : options.temporalAddress,
      persistTemporal: options.temporalRestarts > 0,
      temporalCliPath: process.env.LIFELINE_TEMPORAL_CLI,
      redisUrl: chaosRedis.url,
      onUnexpectedExit: (message) => log.error(message),
    });
    cleanups.push(() => stack.stop());
    if (realServer) opts.progress("starting a real temporal-server with mutual TLS on the run's Postgres");
    const real = realServer ? await startChaosRealTemporal(dir, stack.databaseUrl, log) : undefined;
    if (real) cleanups.push(() => real.server.stop());
    const temporalEnv = real?.clientEnv ?? { TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace };
    const workflowBundle = options.workflowBundlePath ?? (await writeWorkflowBundle(join(dir, 'workflow-bundle.js')));
    const changedBundle = await writeWorkflowBundle(join(dir, 'changed-workflow-bundle.js'), changedWorkflowsPath);

    const pool: pg.Pool = createPool(stack.databaseUrl, log);
    cleanups.push(() => pool.end());
    const redis: Redis | Cluster = createRedis(stack.redisUrl, log);
    cleanups.push(() => redis.disconnect());
    const connection = real?.connection ?? (await Connection.connect({ address: stack.temporalAddress }));
    cleanups.push(() => connection.close());
    const temporal = new Client({ connection, namespace: real?.namespace ?? stack.namespace });

    const ledger = new AgentLedger();
    const agentServer = await ChaosAgentServer.start({ dir, ledger });
    cleanups.push(() => agentServer.stop());
    const agentStore = createAgentStore(pool);
    for (const a of agentServer.agents) {
      await agentStore.upsert({
        name: a.name,
        baseUrl: a.baseUrl,
        token: literalToken(a.token),
        capacity: a.capacity,
        defaultTimeoutSeconds: null,
      });
    }

    const taskQueue = `chaos-${opts.runId}`;
    const deploymentName = `chaos-${opts.runId}`;
    const workers = new WorkerPool({
      logDir: dir,
      env: isolatedEnvironment({
        ...executionSettingsEnv(chaosSettings),
        ...temporalEnv,
        LIFELINE_TASK_QUEUE: taskQueue,
        DATABASE_URL: stack.databaseUrl,
        REDIS_URL: stack.redisUrl,
        LIFELINE_WORKFLOW_BUNDLE: workflowBundle,
        // Pinned executions keep their build through the code change; the first build makes itself current.
        LIFELINE_WORKER_VERSIONING: 'on',
        LIFELINE_DEPLOYMENT_NAME: deploymentName,
        LIFELINE_RECONCILE_INTERVAL_SECONDS: String(reconcileIntervalSeconds),
        LIFELINE_RECONCILE_GRACE_SECONDS: String(opts.reconcileGraceSeconds),
        LIFELINE_METRICS_PORT: '0',
        LIFELINE_LOG_LEVEL: 'info',
      }),
    });
    cleanups.push(() => workers.stop());
    opts.progress(`starting ${options.workers} workers and the agent server at ${agentServer.url}`);
    await workers.start(options.workers);

    return {
      dir,
      taskQueue,
      deploymentName,
      bundles: { released: workflowBundle, changed: changedBundle },
      reconcileGraceSeconds: opts.reconcileGraceSeconds,
      postgres: stack.postgres!,
      redis: chaosRedis,
      temporalServer: real?.server ?? stack.temporal,
      agentServer,
      workers,
      ledger,
      executions: createExecutionReader(pool),
      // Lifeline's dev servers answer an idle long poll after 10 s, so a live build is never 30 s silent.
      stuckSources: {
        workflows: temporal.workflow,
        executions: createExecutionReader(pool),
        taskQueue,
        clock: Date.now,
        workerGoneSeconds: 30,
      },
      // Read here (leases and waiters); the lease length only matters to writers, which are the workers.
      slots: createCapacitySlots(redis, { leaseMs: leaseMsFor(chaosSettings), waiterTtlMs: 0 }),
      tenants: createTenantStore(pool),
      temporal,
      client: new LifelineClient({ temporal, pool, taskQueue }),
      stop,
    };
  } catch (err) {
    await stop(true);
    throw err;
  }
}
