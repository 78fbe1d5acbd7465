import type { Cluster, Redis } from 'ioredis';
import { acquireScript, currentScript, initializedMarker, rebuildScript, releaseScript, renewScript } from './slot-scripts.js';

import type { BusyPolicy } from '../domain/execution-types.js';
import { defaultTenant } from '../domain/tenants.js';
import type { SlotHolder } from '../store/slot-holds.js';
import { createTenantHolds } from './tenant-holds.js';
import { withLuaCommands } from './lua-commands.js';

export interface SlotLease {
  executionId: string;
  expiresAt: number;
}

/** What an acquire tells the agent's queue of the execution's tenant (DESIGN: Tenants). */
export interface TenantShare {
  tenant: string;
  /** Its share of a contended agent, against the other waiting tenants' weights. */
  weight: number;
  /** 1 to 5, 1 first: every waiter of a better priority is served first. */
  priority: number;
  /** At most this many slots on one agent; absent: no limit. */
  maxRunningPerAgent?: number;
  /** At most this many slots across all agents; absent: no limit. */
  maxRunning?: number;
}

/** A tenant that set nothing: weight 1, the middle priority, no limit. */
export const defaultShare: TenantShare = { tenant: defaultTenant, weight: 1, priority: 3 };

/** How fast a tenant's past slot time is forgotten when its share is judged. */
const defaultFairShareHalfLifeMs = 60_000;

export interface CapacitySlotsOptions {
  /** How long a lease lives without renewal before it is "suspect" (not reclaimed: see DESIGN §5). */
  leaseMs: number;
  /** How long a queued waiter keeps its place without polling. */
  waiterTtlMs: number;
  keyPrefix?: string;
  /** The half-life of the slot time a tenant's share is judged by (default a minute). */
  fairShareHalfLifeMs?: number;
  /**
   * The executions that hold a slot on the agent, read from Postgres (running rows, queued rows
   * admitted with a slot, ended rows whose process is still being stopped): what the leases are
   * rebuilt from when Redis lost them. Unset (tests of the scripts alone): none.
   */
  holders?: (agent: string) => Promise<SlotHolder[]>;
  /** The same for one tenant, across agents: what its holders are rebuilt from (tenant-holds.ts). */
  tenantHolders?: (tenant: string) => Promise<string[]>;
  /**
   * An execution's tenant, from Postgres: what a release falls back on when Redis lost the lease's
   * owner (a flush, a failover), so the tenant's hold is given back all the same.
   */
  tenantOf?: (executionId: string) => Promise<string | undefined>;
  /** Told of each rebuild that happened, with the number of leases it created. */
  onRebuilt?: (agent: string, created: number) => void;
}

interface SlotCommands {
  lifelineAcquire(...keysThenArgs: (string | number)[]): Promise<number>;
  lifelineCurrent(k1: string, k2: string): Promise<number>;
  lifelineRenew(k1: string, ...args: (string | number)[]): Promise<number>;
  lifelineRelease(...keysThenArgs: (string | number)[]): Promise<number>;
  lifelineRebuild(
    k1: string,
    k2: string,
    k3: string,
    k4: string,
    k5: string,
    leaseMs: number,
    ...membersAndTenants: string[]
  ): Promise<number>;
}

const slotCommands = {
  lifelineAcquire: { numberOfKeys: 11, lua: acquireScript },
  lifelineCurrent: { numberOfKeys: 2, lua: currentScript },
  lifelineRenew: { numberOfKeys: 1, lua: renewScript },
  lifelineRelease: { numberOfKeys: 8, lua: releaseScript },
  lifelineRebuild: { numberOfKeys: 5, lua: rebuildScript },
};

export type CapacitySlots = ReturnType<typeof createCapacitySlots>;

/**
 * How long a released execution is refused a slot. A cancelled queued wait learns of its cancellation
 * with its next heartbeat (at most a minute away) or when its workflow is gone; an hour covers both.
 */
const concludedKeepMs = 60 * 60_000;

export function createCapacitySlots(redis: Redis | Cluster, options: CapacitySlotsOptions) {
  const r = withLuaCommands<SlotCommands>(redis, slotCommands);
  const prefix = options.keyPrefix ?? 'lifeline:slots';
  const halfLifeMs = options.fairShareHalfLifeMs ?? defaultFairShareHalfLifeMs;
  const keys = (agent: string) => {
    const key = (name: string) => `${prefix}:{${agent}}:${name}`;
    return {
      leases: key('leases'),
      waiting: key('waiting'),
      seen: key('seen'),
      arrivals: key('arrivals'),
      concluded: key('concluded'),
      lineage: key('lineage'),
      owners: key('owners'),
      byTenant: key('by-tenant'),
      tenants: key('tenants'),
      usage: key('usage'),
      held: key('held'),
    };
  };

  /** 1: the member holds a lease; 0: no slot; -1: the leases were lost and must be rebuilt first. */
  async function acquireOnce(
    agent: string,
    executionId: string,
    capacity: number,
    policy: BusyPolicy,
    share: TenantShare,
    blocked: boolean,
  ): Promise<number> {
    const k = keys(agent);
    return r.lifelineAcquire(
      ...[k.leases, k.waiting, k.seen, k.arrivals, k.concluded, k.lineage, k.owners, k.byTenant, k.tenants, k.usage, k.held],
      executionId,
      capacity,
      options.leaseMs,
      policy,
      options.waiterTtlMs,
      share.tenant,
      share.weight,
      share.priority,
      share.maxRunningPerAgent ?? 0,
      blocked ? '1' : '0',
      halfLifeMs,
    );
  }

  /**
   * Rebuilds the agent's leases from the executions that hold capacity when Redis lost them, or may
   * have (no marker, or a failover since: slot-scripts.ts); does nothing otherwise. Returns the leases created, or undefined
   * when there was nothing to rebuild. Concurrent rebuilds are safe: the script checks the marker.
   */
  async function rebuild(agent: string): Promise<number | undefined> {
    const k = keys(agent);
    if ((await r.lifelineCurrent(k.leases, k.lineage)) === 1) return undefined;
    // Read after the marker was found missing: every holder from then on is in Postgres (an admission
    // writes its row after its acquire, and acquires are refused until the marker is back).
    const holders = (await options.holders?.(agent)) ?? [];
    const created = await r.lifelineRebuild(
      k.leases,
      k.concluded,
      k.lineage,
      k.owners,
      k.held,
      options.leaseMs,
      ...holders.flatMap((h) => [h.executionId, h.tenant]),
    );
    if (created < 0) return undefined;
    options.onRebuilt?.(agent, created);
    return created;
  }

  /** One acquire against the agent's queue, rebuilding its leases first when Redis lost them. */
  async function acquire(agent: string, executionId: string, capacity: number, policy: BusyPolicy, share: TenantShare, blocked: boolean) {
    let got = await acquireOnce(agent, executionId, capacity, policy, share, blocked);
    if (got === -1) {
      await rebuild(agent);
      got = await acquireOnce(agent, executionId, capacity, policy, share, blocked);
    }
    if (got === -1) throw new Error(`the capacity slots of agent ${agent} vanished again while being rebuilt; retrying`);
    return got === 1;
  }

  const tenantHolds = createTenantHolds(redis, { keyPrefix: prefix, concludedKeepMs, holders: options.tenantHolders });

  return {
    rebuild,
    tenantHolds,

    /**
     * One atomic attempt; under `queue` it also takes (or keeps) the member's FIFO place. When Redis
     * lost the agent's leases, rebuilds them from Postgres first: nobody is admitted against an empty count.
     */
    async tryAcquire(agent: string, executionId: string, capacity: number, policy: BusyPolicy, share = defaultShare): Promise<boolean> {
      const { tenant, maxRunning } = share;
      // A tenant with a limit across agents takes its place there first, so its count never falls
      // short; at its limit, its waiters are passed over here and other tenants' served.
      const reserved = maxRunning === undefined ? undefined : await tenantHolds.reserve(tenant, executionId, maxRunning);
      let got = false;
      try {
        got = await acquire(agent, executionId, capacity, policy, share, reserved === 0);
      } finally {
        if (!got && reserved === 2) await tenantHolds.unreserve(tenant, executionId);
      }
      if (got && maxRunning === undefined) await tenantHolds.note(tenant, executionId);
      return got;
    },

    /** Extends a held lease; false when the member holds none (nothing is created then). */
    async renew(agent: string, executionId: string): Promise<boolean> {
      return (await r.lifelineRenew(keys(agent).leases, executionId, options.leaseMs, 'renew')) === 1;
    },

    /** Re-creates a vanished lease of an execution known to be running; false when it had to. */
    async restore(agent: string, executionId: string): Promise<boolean> {
      return (await r.lifelineRenew(keys(agent).leases, executionId, options.leaseMs, 'restore')) === 1;
    },

    /** Ends the execution's claim on the agent for good: its lease, its queue place, and any later try. */
    async release(agent: string, executionId: string): Promise<boolean> {
      const k = keys(agent);
      // Read before the agent's release forgets it; Postgres says when Redis lost it (a lease from before tenants: default).
      const owner = await redis.hget(k.owners, executionId);
      const tenant = owner?.split('|')[0] ?? (await options.tenantOf?.(executionId)) ?? defaultTenant;
      const released = await r.lifelineRelease(
        ...[k.leases, k.waiting, k.seen, k.concluded, k.owners, k.byTenant, k.usage, k.held],
        executionId,
        concludedKeepMs,
        halfLifeMs,
      );
      // After the agent's: the tenant's count never falls below what it holds.
      await tenantHolds.release(tenant, executionId);
      return released === 1;
    },

    async leases(agent: string): Promise<SlotLease[]> {
      const flat = await redis.zrange(keys(agent).leases, 0, -1, 'WITHSCORES');
      const out: SlotLease[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        if (flat[i] !== initializedMarker) out.push({ executionId: flat[i]!, expiresAt: Number(flat[i + 1]) });
      return out;
    },

    /** Rejects when Redis cannot be reached within `timeoutMs`. */
    async ping(timeoutMs = 5000): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([redis.ping(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async waiting(agent: string): Promise<string[]> {
      return redis.zrange(keys(agent).waiting, 0, -1);
    },
  };
}
