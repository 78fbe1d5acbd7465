import type { Cluster, Redis } from 'ioredis';
import { createCapacitySlots } from '../../src/slots/capacity-slots.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';

export interface CrowdedSlotsResult {
  holders: number;
  tenants: number;
  /** Redis CPU (µs) per try of a queued waiter against the full agent: what every waiter pays each poll interval. */
  waiterPollUs: number;
  /** Redis CPU (µs) per release of a holder followed by the admission of a waiter (both scripts). */
  handOverUs: number;
}

/** Redis' own count of microseconds spent in EVALSHA, and of its calls, since the last CONFIG RESETSTAT. */
async function evalshaUsec(redis: Redis | Cluster): Promise<{ calls: number; usec: number }> {
  const stats = await (redis as Redis).info('commandstats');
  const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats);
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

/**
 * An agent full to its capacity of `holders` slots, held by `tenants` tenants, with as many waiters
 * queued: what a waiter's poll and a hand-over (a release, then the next waiter's admission) cost
 * Redis. On a crowded agent these are what every second of queueing is made of.
 */
export async function benchCrowdedSlots(redis: Redis | Cluster, holders: number, tenants: number): Promise<CrowdedSlotsResult> {
  const slots = createCapacitySlots(redis, { leaseMs: 600_000, waiterTtlMs: 600_000, keyPrefix: 'bench:crowded' });
  const agent = 'bench-crowded';
  const share = (i: number) => ({ tenant: `team-${i % tenants}`, weight: 1, priority: 3 });
  await forEachConcurrently(
    Array.from({ length: holders }, (_, i) => i),
    32,
    async (i) => {
      if (!(await slots.tryAcquire(agent, `holder-${i}`, holders, 'skip', share(i)))) throw new Error(`holder-${i} got no slot`);
    },
  );
  const waiters = Array.from({ length: holders }, (_, i) => `waiter-${i}`);
  await forEachConcurrently(waiters, 32, async (w, i) => {
    if (await slots.tryAcquire(agent, w, holders, 'queue', share(i))) throw new Error(`${w} got a slot of a full agent`);
  });

  await (redis as Redis).config('RESETSTAT');
  await forEachConcurrently(waiters, 1, async (w, i) => {
    await slots.tryAcquire(agent, w, holders, 'queue', share(i));
  });
  const polls = await evalshaUsec(redis);

  const handOvers = Math.min(200, holders);
  await (redis as Redis).config('RESETSTAT');
  for (let i = 0; i < handOvers; i++) {
    await slots.release(agent, `holder-${i}`);
    await slots.tryAcquire(agent, waiters[i]!, holders, 'queue', share(i));
  }
  const handOver = await evalshaUsec(redis);
  return { holders, tenants, waiterPollUs: polls.usec / polls.calls, handOverUs: handOver.usec / handOvers };
}
