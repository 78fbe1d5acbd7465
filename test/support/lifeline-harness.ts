import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createPool } from '../../src/db/pool.js';
import { createRedis } from '../../src/db/redis.js';
import { inject } from 'vitest';
import { buildLifelineDeps } from '../../src/deps/build-lifeline-deps.js';
import type { LifelineDeps } from '../../src/deps/lifeline-deps.js';
import type { AgentCommandConfig } from '../../src/agent-server/agent-server-config.js';
import { startAgentServer, type AgentServer } from '../../src/agent-server/agent-server.js';
import { demoAgentConfig } from '../../src/agent-server/demo-agents.js';
import { LifelineClient } from '../../src/client/lifeline-client.js';
import type { ExecutionSettings } from '../../src/config/config.js';
import { createAgentStore } from '../../src/store/agent-store.js';
import { createLifelineWorker } from '../../src/temporal/lifeline-worker.js';
import { dataConverterOptions } from '../../src/payload-codec/data-converter.js';
import { silentLogger, createLogger } from '../../src/util/logger.js';
import { testDepsConfig, testSettings } from './test-settings.js';

export interface HarnessAgent {
  capacity?: number;
  defaultTimeoutSeconds?: number | null;
  config?: Partial<AgentCommandConfig>;
}

export interface HarnessOptions {
  agents: Record<string, HarnessAgent>;
  settings?: Partial<ExecutionSettings>;
  /** Start an in-process worker (default true); worker-kill tests run theirs as child processes. */
  worker?: boolean;
  agentServerPort?: number;
  /** Servers of the test's own (to stop and restart them) instead of the shared ones. */
  databaseUrl?: string;
  redisUrl?: string;
  /** Overrides of activity dependencies, such as a webhook URL for alerts. */
  deps?: { webhookUrl?: string; leaseMs?: number };
  /** A payload codec for the harness's client and in-process worker alike. */
  codec?: PayloadCodec;
  /** The in-process worker's LIFELINE_MAX_CONCURRENT_RUNS (the SDK's default when unset). */
  maxConcurrentRuns?: number;
}

/** Unique per test file, so files running in parallel never see each other's agents or queues. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Everything one test file needs against the real stack: clients for Temporal, Postgres and
 * Redis, a reference agent server with demo agents (names suffixed to be unique), a worker on a
 * private task queue, and the Lifeline client.
 */
let runtimeInstalled = false;

export async function startHarness(opts: HarnessOptions) {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger(process.env.LIFELINE_TEST_LOGS ? 'INFO' : 'WARN') });
    runtimeInstalled = true;
  }
  const suffix = uniqueSuffix();
  const log = process.env.LIFELINE_TEST_LOGS ? createLogger('test') : silentLogger();
  const settings: ExecutionSettings = { ...testSettings, ...opts.settings };
  const namespace = inject('namespace');
  const taskQueue = `test-${suffix}`;
  const databaseUrl = opts.databaseUrl ?? inject('databaseUrl');
  const redisUrl = opts.redisUrl ?? inject('redisUrl');
  const pool = createPool(databaseUrl, log);
  const redis = createRedis(redisUrl, log);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection, namespace, ...dataConverterOptions(opts.codec) });
  const nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });

  const names = Object.fromEntries(Object.keys(opts.agents).map((a) => [a, `${a}-${suffix}`]));
  const tokens = Object.fromEntries(Object.keys(opts.agents).map((a) => [a, randomBytes(12).toString('hex')]));
  const agentServerConfig = {
    port: opts.agentServerPort ?? 0,
    agents: Object.fromEntries(
      Object.entries(opts.agents).map(([a, spec]) => [names[a]!, demoAgentConfig(tokens[a]!, { stopGraceMs: 2000, ...spec.config })]),
    ),
  };
  let agentServer: AgentServer = await startAgentServer(agentServerConfig, log);
  const agentStore = createAgentStore(pool);
  for (const [a, spec] of Object.entries(opts.agents)) {
    await agentStore.upsert({
      name: names[a]!,
      baseUrl: agentServer.baseUrlFor(names[a]!),
      token: tokens[a]!,
      capacity: spec.capacity ?? 5,
      defaultTimeoutSeconds: spec.defaultTimeoutSeconds ?? null,
    });
  }

  const deps: LifelineDeps = buildLifelineDeps({
    pool,
    redis,
    workflows: temporal.workflow,
    config: testDepsConfig(settings, opts.deps?.webhookUrl),
    log,
    leaseMs: opts.deps?.leaseMs,
  });
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  if (opts.worker !== false) {
    worker = await createLifelineWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      deps,
      workflowBundlePath: inject('workflowBundlePath'),
      shutdownGraceTime: '2 seconds',
      maxConcurrentRuns: opts.maxConcurrentRuns,
      ...dataConverterOptions(opts.codec),
    });
    workerRun = worker.run();
  }

  const client = new LifelineClient({ temporal, pool, taskQueue });
  return {
    log,
    settings,
    databaseUrl,
    redisUrl,
    namespace,
    taskQueue,
    pool,
    redis,
    temporal,
    nativeConnection,
    client,
    deps,
    executions: deps.executions,
    slots: deps.slots,
    agent: (name: string) => names[name]!,
    agentServer: () => agentServer,
    agentServerConfig,
    /** Stops the agent server (killing its processes) and starts a fresh one on the same port. */
    async restartAgentServer(): Promise<void> {
      const port = agentServer.port;
      await agentServer.close();
      agentServer = await startAgentServer({ ...agentServerConfig, port }, log);
    },
    /** How many times the agent server spawned a process for each execution id. */
    async agentStarts(): Promise<Record<string, number>> {
      const anyToken = Object.values(tokens)[0];
      const res = await fetch(`${agentServer.url}/_debug/starts`, { headers: { authorization: `Bearer ${anyToken}` } });
      return (await res.json()) as Record<string, number>;
    },
    async close(): Promise<void> {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => undefined);
      await agentServer.close();
      await connection.close();
      await nativeConnection.close();
      redis.disconnect();
      await pool.end();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
