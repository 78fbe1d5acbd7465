import type { Cluster, Redis } from 'ioredis';
import { createCapacitySlots } from '../../src/slots/capacity-slots.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';
import type { BenchStack } from './bench-stack.js';
import { progress } from './progress.js';
import { benchCrowdedSlots, type CrowdedSlotsResult } from './crowded-slots.js';
import { alternatingRounds } from './rounds.js';
import { nowMs } from './stats.js';

export interface SlotsOptions {
  pairsPerRound: number;
  /** Rounds per kind; the kinds take turns (ABBA...). */
  roundsPerKind: number;
  /** Pairs in flight at once on the one connection, which ioredis pipelines. */
  depth: number;
}

export interface SlotsResult {
  slotPairsPerSecond: number;
  baselinePairsPerSecond: number;
  ratio: number;
  depth: number;
  crowded: CrowdedSlotsResult;
}

type Kind = 'slots' | 'baseline';

/** The crowded agent: a shared agent of a large platform, and the teams that use it. */
const crowdedHolders = 1500;
const crowdedTenants = 20;
type NoopRedis = (Redis | Cluster) & { benchNoop(key: string, arg: string): Promise<number> };

/**
 * Capacity-slot acquire+release pairs per second (src/slots/capacity-slots.ts), next to pairs of a
 * trivial Lua script sent the same way (defineCommand → EVALSHA), on the same client and depth.
 */
export async function benchSlots(bs: BenchStack, opts: SlotsOptions): Promise<SlotsResult> {
  const slots = createCapacitySlots(bs.redis, {
    leaseMs: 60_000,
    waiterTtlMs: 10_000,
    keyPrefix: 'bench:slots',
  });
  bs.redis.defineCommand('benchNoop', { numberOfKeys: 1, lua: 'return 1' });
  const redis = bs.redis as NoopRedis;
  const agent = 'bench-slots';
  const pair: Record<Kind, (id: string) => Promise<void>> = {
    async slots(id) {
      if (!(await slots.tryAcquire(agent, id, opts.depth, 'skip'))) throw new Error(`slot for ${id} not granted`);
      await slots.release(agent, id);
    },
    async baseline(id) {
      await redis.benchNoop('bench:noop', id);
      await redis.benchNoop('bench:noop', id);
    },
  };
  const round = async (kind: Kind, label: string, count: number) => {
    const ids = Array.from({ length: count }, (_, i) => `${label}-${i}`);
    const started = nowMs();
    await forEachConcurrently(ids, opts.depth, pair[kind]);
    return (nowMs() - started) / 1000;
  };

  await round('slots', 'warmup', opts.pairsPerRound);
  await round('baseline', 'warmup', opts.pairsPerRound);
  const seconds: Record<Kind, number> = { slots: 0, baseline: 0 };
  const order = alternatingRounds<Kind>(['slots', 'baseline'], opts.roundsPerKind);
  for (const [i, kind] of order.entries()) {
    const took = await round(kind, `r${i}`, opts.pairsPerRound);
    seconds[kind] += took;
    progress(`slots: round ${i + 1}/${order.length} ${kind}: ${Math.round(opts.pairsPerRound / took)} pairs/s`);
  }
  const total = opts.pairsPerRound * opts.roundsPerKind;
  const slotPairsPerSecond = total / seconds.slots;
  const baselinePairsPerSecond = total / seconds.baseline;
  progress(`slots: an agent crowded with ${crowdedHolders} holders of ${crowdedTenants} tenants and as many waiters`);
  const crowded = await benchCrowdedSlots(bs.redis, crowdedHolders, crowdedTenants);
  return {
    slotPairsPerSecond,
    baselinePairsPerSecond,
    ratio: slotPairsPerSecond / baselinePairsPerSecond,
    depth: opts.depth,
    crowded,
  };
}
