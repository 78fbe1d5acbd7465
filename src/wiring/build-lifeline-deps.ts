import type { WorkflowClient } from '@temporalio/client';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { createAgentClient } from '../agent/agent-client.js';
import { resolveAgentToken } from '../agent/token-resolution.js';
import { logAlerter, webhookAlerter, type Alerter } from '../alerts/webhook.js';
import type { ExecutionSettings, LifelineConfig } from '../config/config.js';
import { createLifelineMetrics, type LifelineMetrics } from '../metrics/lifeline-metrics.js';
import { createStandingAlerts } from '../alerts/standing-alerts.js';
import { createFullSweepTurns } from '../reconciler/full-sweep-turns.js';
import { countStuckExecutions } from '../reconciler/stuck-executions.js';
import { createCapacitySlots, type CapacitySlots } from '../slots/capacity-slots.js';
import { createAgentStore, type AgentStore } from '../store/agent-store.js';
import { createExecutionStore } from '../store/execution-store.js';
import { createTenantStore } from '../store/tenant-store.js';
import { createTenantSettingsReader } from '../slots/tenant-shares.js';
import type { Logger } from '../util/logger.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { createRepeatedWarnings } from '../util/repeated-warnings.js';

/** Lease length: long enough that only a dead or partitioned run lets it lapse (it only marks a slot suspect). */
export function leaseMsFor(settings: ExecutionSettings): number {
  return Math.max(30_000, 3 * settings.heartbeatTimeoutSeconds * 1000);
}

/** Slot leases held per agent, for the slots-in-use gauge. */
function slotsInUse(agents: AgentStore, slots: CapacitySlots) {
  return async () => {
    const counts: Record<string, number> = {};
    for (const agent of await agents.list()) counts[agent.name] = (await slots.leases(agent.name)).length;
    return counts;
  };
}

/** The part of the configuration the dependencies are built from. */
export type DepsConfig = Pick<LifelineConfig, 'execution' | 'reconciler' | 'webhookUrl' | 'agentTokens'> &
  Partial<Pick<LifelineConfig, 'agentMaxResponseBytes' | 'metricsTenants'>> & {
    temporal: Pick<LifelineConfig['temporal'], 'taskQueue'>;
  };

/** The production wiring, from configuration; tests may hand over their own alerter, metrics or lease length. */
export function buildLifelineDeps(opts: {
  pool: pg.Pool;
  redis: Redis | Cluster;
  workflows: WorkflowClient;
  config: DepsConfig;
  log: Logger;
  alerter?: Alerter;
  metrics?: LifelineMetrics;
  leaseMs?: number;
  /** The worker's own; readers (the CLI) never drain. */
  draining?: AbortSignal;
}): LifelineDeps {
  const { pool, redis, config, log } = opts;
  const { execution } = config;
  const agents = createAgentStore(pool);
  const executions = createExecutionStore(pool, { maxOutputBytes: execution.maxOutputBytes });
  const tenants = createTenantStore(pool);
  const slots = createCapacitySlots(redis, {
    leaseMs: opts.leaseMs ?? leaseMsFor(execution),
    waiterTtlMs: Math.max(10_000, 5 * execution.pollIntervalMs),
    // Redis lost the leases: they are rebuilt from who holds capacity in Postgres before anyone is admitted.
    holders: (agent) => executions.slotHolders(agent),
    tenantHolders: (tenant) => executions.tenantSlotHolders(tenant),
    tenantOf: async (executionId) => (await executions.get(executionId))?.tenant,
    onRebuilt: (agent, created) =>
      log.warn({ agent, leases: created }, 'Redis had lost the capacity slots of this agent; rebuilt them from Postgres'),
  });
  const alerter = opts.alerter ?? (config.webhookUrl ? webhookAlerter({ url: config.webhookUrl, log }) : logAlerter(log));
  const awaitingWorker = async () => Object.fromEntries((await executions.awaitingWorker()).map((wait) => [wait.agent, wait.count]));
  return {
    repeatedWarnings: createRepeatedWarnings(),
    executions,
    agents,
    tenants,
    tenantSettings: createTenantSettingsReader(tenants, Math.max(1000, execution.pollIntervalMs), Date.now),
    slots,
    agentClient: async (agent, requestTimeoutMs) =>
      createAgentClient({
        baseUrl: agent.baseUrl,
        token: await resolveAgentToken(agent, config.agentTokens),
        requestTimeoutMs,
        maxResponseBytes: config.agentMaxResponseBytes,
      }),
    workflows: opts.workflows,
    taskQueue: config.temporal.taskQueue,
    alerter,
    standingAlerts: createStandingAlerts(redis, alerter, { repeatSeconds: config.reconciler.alertRepeatSeconds }),
    metrics:
      opts.metrics ??
      createLifelineMetrics({
        topTenants: config.metricsTenants,
        slotsInUse: slotsInUse(agents, slots),
        awaitingWorker,
        stuck: () =>
          countStuckExecutions({
            workflows: opts.workflows,
            taskQueue: config.temporal.taskQueue,
            clock: Date.now,
            workerGoneSeconds: config.reconciler.workerGoneSeconds,
          }),
      }),
    settings: { execution, reconciler: config.reconciler },
    fullSweeps: createFullSweepTurns(redis, { intervalSeconds: config.reconciler.fullSweepSeconds }),
    log,
    clock: Date.now,
    draining: opts.draining ?? new AbortController().signal,
  };
}
