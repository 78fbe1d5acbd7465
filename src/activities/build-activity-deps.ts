import type { WorkflowClient } from '@temporalio/client';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createAgentClient } from '../agent/agent-client.js';
import { logAlerter, webhookAlerter, type Alerter } from '../alerts/webhook.js';
import type { ExecutionSettings } from '../config/config.js';
import { createLifelineMetrics, type LifelineMetrics } from '../metrics/lifeline-metrics.js';
import { createFullSweepTurns, defaultFullSweepSeconds } from '../reconciler/full-sweep-turns.js';
import { createCapacitySlots, type CapacitySlots } from '../slots/capacity-slots.js';
import { createAgentStore, type AgentStore } from '../store/agent-store.js';
import { createExecutionStore } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';
import type { ActivityDeps } from './activity-deps.js';

/** Lease length: long enough that only a dead or partitioned run lets it lapse (it only marks a slot suspect). */
export function leaseMsFor(settings: ExecutionSettings): number {
  return Math.max(30_000, 3 * settings.heartbeatTimeoutSeconds * 1000);
}

/** Slot leases held per agent, for the slots-in-use gauge. */
export function slotsInUse(agents: AgentStore, slots: CapacitySlots) {
  return async () => {
    const counts: Record<string, number> = {};
    for (const agent of await agents.list()) counts[agent.name] = (await slots.leases(agent.name)).length;
    return counts;
  };
}

/** The production wiring of activity dependencies. */
export function buildActivityDeps(opts: {
  pool: pg.Pool;
  redis: Redis;
  workflows: WorkflowClient;
  settings: ExecutionSettings;
  log: Logger;
  reconcileGraceSeconds?: number;
  reconcileFullSweepSeconds?: number;
  webhookUrl?: string;
  alerter?: Alerter;
  metrics?: LifelineMetrics;
  leaseMs?: number;
}): ActivityDeps {
  const { pool, redis, settings, log } = opts;
  const agents = createAgentStore(pool);
  const slots = createCapacitySlots(redis, {
    leaseMs: opts.leaseMs ?? leaseMsFor(settings),
    waiterTtlMs: Math.max(10_000, 5 * settings.pollIntervalMs),
  });
  return {
    executions: createExecutionStore(pool, { maxOutputBytes: settings.maxOutputBytes }),
    agents,
    slots,
    agentClient: (agent) => createAgentClient({ baseUrl: agent.baseUrl, token: agent.token }),
    workflows: opts.workflows,
    alerter: opts.alerter ?? (opts.webhookUrl ? webhookAlerter({ url: opts.webhookUrl, log }) : logAlerter(log)),
    metrics: opts.metrics ?? createLifelineMetrics({ slotsInUse: slotsInUse(agents, slots) }),
    settings,
    reconcileGraceSeconds: opts.reconcileGraceSeconds ?? 30,
    fullSweeps: createFullSweepTurns(redis, { intervalSeconds: opts.reconcileFullSweepSeconds ?? defaultFullSweepSeconds }),
    log,
    clock: Date.now,
  };
}
