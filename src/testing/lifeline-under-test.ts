import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { AgentCommandConfig } from '../agent-server/agent-server-config.js';
import { startAgentServer, type AgentServer } from '../agent-server/agent-server.js';
import { demoAgentConfig } from '../agent-server/demo-agents.js';
import type { AgentTokenPolicy } from '../config/token-policy.js';
import { literalToken } from '../domain/token-reference.js';
import { LifelineClient } from '../client/lifeline-client.js';
import type { SchedulePolicy } from '../domain/schedule-policy.js';
import { loadConfig, type ExecutionSettings, type ReconcilerSettings } from '../config/config.js';
import { createPool } from '../db/pool.js';
import { createRedis } from '../db/redis.js';
import { buildLifelineDeps, type DepsConfig } from '../wiring/build-lifeline-deps.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { dataConverterOptions } from '../payload-codec/data-converter.js';
import { createAgentStore } from '../store/agent-store.js';
import { createLifelineWorker } from '../temporal/lifeline-worker.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { resolveTestTemporal, type TestTemporal } from './test-temporal.js';
import { tracingClientInterceptors } from '../tracing/client-tracing.js';
import type { Tracing } from '../tracing/tracing.js';

/** No reconciler schedule (a test runs cycles itself) and no grace: a row is reconciled as soon as a test asks. */
export const reconcilerUnderTest: ReconcilerSettings = {
  intervalSeconds: 0,
  graceSeconds: 0,
  fullSweepSeconds: 600,
  workerWaitAlertSeconds: 60,
  workerGoneSeconds: 75,
  alertRepeatSeconds: 900,
};

let runtimeInstalled = false;

/** The SDK's runtime is installed once per process, before any connection; its log level follows `log`. */
function installRuntimeOnce(log: Logger | undefined): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger(log ? 'INFO' : 'WARN') });
  runtimeInstalled = true;
}

export interface AgentUnderTest {
  capacity?: number;
  defaultTimeoutSeconds?: number | null;
  defaultIdleTimeoutSeconds?: number | null;
  config?: Partial<AgentCommandConfig>;
}

export interface LifelineUnderTestOptions {
  /** Agents of the reference agent server (demo behaviours unless `config` says otherwise), by key: `agent(key)` gives the registered name. */
  agents: Record<string, AgentUnderTest>;
  /**
   * The Temporal server (the dev server of `npm start`, a CI service, a secured cluster) and
   * namespace; from the environment (TEMPORAL_*, temporal.toml) when absent.
   */
  temporal?: TestTemporal;
  databaseUrl: string;
  redisUrl: string;
  settings?: Partial<ExecutionSettings>;
  /** Start an in-process worker (default true); worker-kill tests run theirs as child processes. */
  worker?: boolean;
  agentServerPort?: number;
  /** The user the agents' processes run as: as in production, `nobody` when the tests run as root (agent-user.ts). */
  runAgentsAs?: string;
  /** A prebuilt workflow bundle (bundle once per test run); the workflows are bundled at start otherwise. */
  workflowBundlePath?: string;
  /** Logs of Lifeline's own components; silent unless given. */
  log?: Logger;
  /** Overrides of activity dependencies, such as a webhook URL for alerts or the agent token policy (the default configuration's otherwise). */
  deps?: { webhookUrl?: string; leaseMs?: number; agentTokens?: AgentTokenPolicy };
  /** A payload codec for the harness's client and in-process worker alike. */
  codec?: PayloadCodec;
  /** The in-process worker's LIFELINE_MAX_CONCURRENT_RUNS (the SDK's default when unset). */
  maxConcurrentRuns?: number;
  /** The worker's workflows and activities export their spans there (startTracing). */
  tracing?: Tracing;
  /**
   * The client's limits on schedules; by default any interval (a test's schedules fire every
   * second) and the production limit on schedules per agent.
   */
  schedulePolicy?: Partial<SchedulePolicy>;
}

/** Unique per Lifeline under test, so tests running in parallel never see each other's agents or queues. */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Lifeline running for a test: the reference agent server with the agents asked for (registered
 * under unique names, so parallel tests never share one), a worker on a task queue of its own with
 * Lifeline's real activities, and a LifelineClient, against the Temporal, Postgres and Redis given.
 * `close()` stops all of it.
 */
export async function startLifelineUnderTest(opts: LifelineUnderTestOptions) {
  installRuntimeOnce(opts.log);
  const suffix = uniqueSuffix();
  const log = opts.log ?? silentLogger();
  const settings: ExecutionSettings = { ...loadConfig({}).execution, ...opts.settings };
  const { namespace, ...connectOptions } = resolveTestTemporal(opts.temporal);
  const taskQueue = `test-${suffix}`;
  const { databaseUrl, redisUrl } = opts;
  const pool = createPool(databaseUrl, log);
  const redis = createRedis(redisUrl, log);
  const connection = await Connection.connect(connectOptions);
  const temporal = new Client({ connection, namespace, ...dataConverterOptions(opts.codec), interceptors: tracingClientInterceptors() });
  const nativeConnection = await NativeConnection.connect(connectOptions);

  const names = Object.fromEntries(Object.keys(opts.agents).map((a) => [a, `${a}-${suffix}`]));
  const tokens = Object.fromEntries(Object.keys(opts.agents).map((a) => [a, randomBytes(12).toString('hex')]));
  const agentServerConfig = {
    port: opts.agentServerPort ?? 0,
    runAgentsAs: opts.runAgentsAs,
    agents: Object.fromEntries(
      Object.entries(opts.agents).map(([a, spec]) => [
        names[a]!,
        // Room on the agent server for every run Lifeline's capacity admits.
        demoAgentConfig(tokens[a]!, { stopGraceMs: 2000, maxConcurrentRuns: Math.max(64, spec.capacity ?? 1), ...spec.config }),
      ]),
    ),
  };
  let agentServer: AgentServer = await startAgentServer(agentServerConfig, log);
  const agentStore = createAgentStore(pool);
  for (const [a, spec] of Object.entries(opts.agents)) {
    await agentStore.upsert({
      name: names[a]!,
      baseUrl: agentServer.baseUrlFor(names[a]!),
      // Held in Postgres, so that workers the test starts as child processes can call the agent too.
      token: literalToken(tokens[a]!),
      capacity: spec.capacity ?? 5,
      defaultTimeoutSeconds: spec.defaultTimeoutSeconds ?? null,
      defaultIdleTimeoutSeconds: spec.defaultIdleTimeoutSeconds ?? null,
    });
  }

  const depsConfig: DepsConfig = {
    execution: settings,
    reconciler: reconcilerUnderTest,
    webhookUrl: opts.deps?.webhookUrl,
    agentTokens: opts.deps?.agentTokens ?? loadConfig({}).agentTokens,
    temporal: { taskQueue },
  };
  const deps: LifelineDeps = buildLifelineDeps({
    pool,
    redis,
    workflows: temporal.workflow,
    config: depsConfig,
    log,
    leaseMs: opts.deps?.leaseMs,
  });
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  if (opts.worker !== false) {
    ({ worker } = await createLifelineWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      deps,
      workflowBundlePath: opts.workflowBundlePath,
      shutdownGraceTime: '2 seconds',
      maxConcurrentRuns: opts.maxConcurrentRuns,
      tracing: opts.tracing,
      ...dataConverterOptions(opts.codec),
    }));
    workerRun = worker.run();
  }

  const client = new LifelineClient({ temporal, pool, taskQueue, schedulePolicy: { minIntervalSeconds: 1, ...opts.schedulePolicy } });
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
    /** What `deps` was built from, for a test that builds its own (with an alerter that records, say). */
    depsConfig,
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
      const perAgent = await Promise.all(
        Object.keys(opts.agents).map(async (a) => {
          const res = await fetch(`${agentServer.baseUrlFor(names[a]!)}/_debug/starts`, {
            headers: { authorization: `Bearer ${tokens[a]!}` },
          });
          // An error answer must not read as "never started".
          if (!res.ok) throw new Error(`agent server ${names[a]}: GET /_debug/starts answered HTTP ${res.status}`);
          return (await res.json()) as Record<string, number>;
        }),
      );
      return Object.assign({}, ...perAgent) as Record<string, number>;
    },
    /** Stops the worker gracefully (a deploy's first half); the agent server and the rest stay up. */
    async stopWorker(): Promise<void> {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun?.catch(() => undefined);
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

export type LifelineUnderTest = Awaited<ReturnType<typeof startLifelineUnderTest>>;
