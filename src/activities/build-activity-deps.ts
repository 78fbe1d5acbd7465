import type { Redis } from 'ioredis';
import type pg from 'pg';
import { createAgentClient } from '../agent/agent-client.js';
import type { ExecutionSettings } from '../config/config.js';
import { createCapacitySlots } from '../slots/capacity-slots.js';
import { createAgentStore } from '../store/agent-store.js';
import { createExecutionStore } from '../store/execution-store.js';
import type { Logger } from '../util/logger.js';
import type { ActivityDeps } from './activity-deps.js';
import { logNotifier, type Notifier } from './notifier.js';

/** Lease length: long enough that only a dead or partitioned run lets it lapse (it only marks a slot suspect). */
export function leaseMsFor(settings: ExecutionSettings): number {
  return Math.max(30_000, 3 * settings.heartbeatTimeoutSeconds * 1000);
}

/** The production wiring of activity dependencies from a pool, a Redis client and the settings. */
export function buildActivityDeps(opts: {
  pool: pg.Pool;
  redis: Redis;
  settings: ExecutionSettings;
  log: Logger;
  notifier?: Notifier;
}): ActivityDeps {
  const { pool, redis, settings, log } = opts;
  return {
    executions: createExecutionStore(pool, { maxOutputBytes: settings.maxOutputBytes }),
    agents: createAgentStore(pool),
    slots: createCapacitySlots(redis, {
      leaseMs: leaseMsFor(settings),
      waiterTtlMs: Math.max(10_000, 5 * settings.pollIntervalMs),
    }),
    agentClient: (agent) => createAgentClient({ baseUrl: agent.baseUrl, token: agent.token }),
    notifier: opts.notifier ?? logNotifier(log),
    settings,
    log,
    clock: Date.now,
  };
}
