import type { Cluster, Redis } from 'ioredis';
import { withLuaCommands } from './lua-commands.js';
import { initializedMarker } from './slot-scripts.js';
import { noteScript, reserveScript, tenantRebuildScript, tenantReleaseScript } from './tenant-hold-scripts.js';

interface TenantCommands {
  lifelineTenantReserve(holders: string, lineage: string, concluded: string, member: string, limit: number): Promise<number>;
  lifelineTenantNote(holders: string, lineage: string, member: string): Promise<number>;
  lifelineTenantRelease(holders: string, concluded: string, member: string, keepMs: number): Promise<number>;
  lifelineTenantRebuild(holders: string, lineage: string, concluded: string, ...members: string[]): Promise<number>;
}

const tenantCommands = {
  lifelineTenantReserve: { numberOfKeys: 3, lua: reserveScript },
  lifelineTenantNote: { numberOfKeys: 2, lua: noteScript },
  lifelineTenantRelease: { numberOfKeys: 2, lua: tenantReleaseScript },
  lifelineTenantRebuild: { numberOfKeys: 3, lua: tenantRebuildScript },
};

/** 2: added now; 1: it held already; 0: the tenant is at its limit. */
export type Reservation = 0 | 1 | 2;

export type TenantHolds = ReturnType<typeof createTenantHolds>;

/**
 * What each tenant holds across agents, for its limit on runs at once (DESIGN: Tenants). Its own
 * keys, not the agents': every agent's queue takes a reservation here first, so the count is never
 * short of the truth, whichever shard each agent's keys live on.
 */
export function createTenantHolds(
  redis: Redis | Cluster,
  options: { keyPrefix: string; concludedKeepMs: number; holders?: (tenant: string) => Promise<string[]> },
) {
  const r = withLuaCommands<TenantCommands>(redis, tenantCommands);
  const keys = (tenant: string) => {
    const key = (name: string) => `${options.keyPrefix}:tenant:{${tenant}}:${name}`;
    return { holders: key('holders'), lineage: key('lineage'), concluded: key('concluded') };
  };

  async function rebuild(tenant: string): Promise<void> {
    const k = keys(tenant);
    // Read once the holders were found not current: every later holder reserves against the rebuilt set.
    const holders = (await options.holders?.(tenant)) ?? [];
    await r.lifelineTenantRebuild(k.holders, k.lineage, k.concluded, ...holders);
  }

  return {
    /** Takes a place among the tenant's holders unless it holds `limit` already; rebuilt from Postgres first when Redis lost them. */
    async reserve(tenant: string, executionId: string, limit: number): Promise<Reservation> {
      const k = keys(tenant);
      let got = await r.lifelineTenantReserve(k.holders, k.lineage, k.concluded, executionId, limit);
      if (got === -1) {
        await rebuild(tenant);
        got = await r.lifelineTenantReserve(k.holders, k.lineage, k.concluded, executionId, limit);
      }
      if (got === -1) throw new Error(`the holders of tenant ${tenant} vanished again while being rebuilt; retrying`);
      return got as Reservation;
    },

    /** Gives back a place taken for an acquire that got no slot. */
    async unreserve(tenant: string, executionId: string): Promise<void> {
      await redis.zrem(keys(tenant).holders, executionId);
    },

    /** Records a slot a tenant without a limit took, so that a limit set later counts it. */
    async note(tenant: string, executionId: string): Promise<boolean> {
      const k = keys(tenant);
      return (await r.lifelineTenantNote(k.holders, k.lineage, executionId)) === 1;
    },

    /** Ends the execution's hold for good: a late try of its wait reserves nothing. */
    async release(tenant: string, executionId: string): Promise<boolean> {
      const k = keys(tenant);
      return (await r.lifelineTenantRelease(k.holders, k.concluded, executionId, options.concludedKeepMs)) === 1;
    },

    /** The tenant's holders and when each was added (Redis' clock, ms); none while not built. */
    async holders(tenant: string): Promise<{ executionId: string; since: number }[]> {
      const flat = await redis.zrange(keys(tenant).holders, 0, -1, 'WITHSCORES');
      const out: { executionId: string; since: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        if (flat[i] !== initializedMarker) out.push({ executionId: flat[i]!, since: Number(flat[i + 1]) });
      return out;
    },
  };
}
