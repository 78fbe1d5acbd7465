import type { Cluster, Redis } from 'ioredis';
import { acquireScript, releaseScript, renewScript } from './slot-scripts.js';

import type { BusyPolicy } from '../domain/execution-types.js';

export interface SlotLease {
  executionId: string;
  expiresAt: number;
}

export interface CapacitySlotsOptions {
  /** How long a lease lives without renewal before it is "suspect" (not reclaimed: see DESIGN §5). */
  leaseMs: number;
  /** How long a queued waiter keeps its place without polling. */
  waiterTtlMs: number;
  keyPrefix?: string;
}

type SlotRedis = (Redis | Cluster) & {
  lifelineAcquire(k1: string, k2: string, k3: string, k4: string, k5: string, ...args: (string | number)[]): Promise<number>;
  lifelineRenew(k1: string, ...args: (string | number)[]): Promise<number>;
  lifelineRelease(k1: string, k2: string, k3: string, k4: string, member: string, keepMs: number): Promise<number>;
};

function withScripts(redis: Redis | Cluster): SlotRedis {
  const r = redis as SlotRedis;
  // defineCommand sends EVALSHA and falls back to EVAL once after a restart flushed the script cache.
  if (typeof r.lifelineAcquire !== 'function') {
    redis.defineCommand('lifelineAcquire', { numberOfKeys: 5, lua: acquireScript });
    redis.defineCommand('lifelineRenew', { numberOfKeys: 1, lua: renewScript });
    redis.defineCommand('lifelineRelease', { numberOfKeys: 4, lua: releaseScript });
  }
  return r;
}

export type CapacitySlots = ReturnType<typeof createCapacitySlots>;

/**
 * How long a released execution is refused a slot. A cancelled queued wait learns of its cancellation
 * with its next heartbeat (at most a minute away) or when its workflow is gone; an hour covers both.
 */
const concludedKeepMs = 60 * 60_000;

export function createCapacitySlots(redis: Redis | Cluster, options: CapacitySlotsOptions) {
  const r = withScripts(redis);
  const prefix = options.keyPrefix ?? 'lifeline:slots';
  const keys = (agent: string) =>
    [
      `${prefix}:{${agent}}:leases`,
      `${prefix}:{${agent}}:waiting`,
      `${prefix}:{${agent}}:seen`,
      `${prefix}:{${agent}}:arrivals`,
      `${prefix}:{${agent}}:concluded`,
    ] as const;

  return {
    /** One atomic attempt; under `queue` it also takes (or keeps) the member's FIFO place. */
    async tryAcquire(agent: string, executionId: string, capacity: number, policy: BusyPolicy): Promise<boolean> {
      const [leases, waiting, seen, arrivals, concluded] = keys(agent);
      const got = await r.lifelineAcquire(
        leases,
        waiting,
        seen,
        arrivals,
        concluded,
        executionId,
        capacity,
        options.leaseMs,
        policy,
        options.waiterTtlMs,
      );
      return got === 1;
    },

    /** Extends a held lease; false when the member holds none (nothing is created then). */
    async renew(agent: string, executionId: string): Promise<boolean> {
      return (await r.lifelineRenew(keys(agent)[0], executionId, options.leaseMs, 'renew')) === 1;
    },

    /** Re-creates a vanished lease of an execution known to be running; false when it had to. */
    async restore(agent: string, executionId: string): Promise<boolean> {
      return (await r.lifelineRenew(keys(agent)[0], executionId, options.leaseMs, 'restore')) === 1;
    },

    /** Ends the execution's claim on the agent for good: its lease, its queue place, and any later try. */
    async release(agent: string, executionId: string): Promise<boolean> {
      const [leases, waiting, seen, , concluded] = keys(agent);
      return (await r.lifelineRelease(leases, waiting, seen, concluded, executionId, concludedKeepMs)) === 1;
    },

    async leases(agent: string): Promise<SlotLease[]> {
      const flat = await redis.zrange(keys(agent)[0], 0, -1, 'WITHSCORES');
      const out: SlotLease[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ executionId: flat[i]!, expiresAt: Number(flat[i + 1]) });
      return out;
    },

    async waiting(agent: string): Promise<string[]> {
      return redis.zrange(keys(agent)[1], 0, -1);
    },
  };
}
