import type { Cluster, Redis } from 'ioredis';
import { createCapacitySlots } from '../../src/slots/capacity-slots.js';
import { forEachConcurrently } from '../../src/util/for-each-concurrently.js';

export interface CrowdedSlotsResult {
  holders: number;
  tenants: number;
  /** Redis CPU (µs) per try of a queued waiter against the full agent: what every waiter pays each poll interval. */
  fullPollUs: number;
  /** Per try of a waiter while a slot is free but picked for another: every waiter's poll until the picked one comes. */
  freePollUs: number;
  /** Per release of a holder, and per admission of the waiter its slot was picked for. */
  releaseUs: number;
  admissionUs: number;
}

/** Redis' own count of microseconds spent in EVALSHA since the last CONFIG RESETSTAT. */
async function evalshaUsec(redis: Redis | Cluster): Promise<number> {
  const stats = await (redis as Redis).info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** What `call` cost Redis in EVALSHA, and what it returned. */
async function measured<T>(redis: Redis | Cluster, call: () => Promise<T>): Promise<{ us: number; result: T }> {
  await (redis as Redis).config('RESETSTAT');
  const result = await call();
  return { us: await evalshaUsec(redis), result };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * An agent full to its capacity of `holders` slots, held by `tenants` tenants, with as many waiters
 * queued: what its tries cost Redis. Waiters poll; after a release, the freed slot is picked for one
 * of them and every other waiter's poll finds it taken for another until that one comes.
 */
export async function benchCrowdedSlots(redis: Redis | Cluster, holders: number, tenants: number): Promise<CrowdedSlotsResult> {
  const slots = createCapacitySlots(redis, { leaseMs: 600_000, waiterTtlMs: 600_000, keyPrefix: 'bench:crowded' });
  const agent = 'bench-crowded';
  const share = (i: number) => ({ tenant: `team-${i % tenants}`, weight: 1, priority: 3 });
  const ids = Array.from({ length: holders }, (_, i) => i);
  await forEachConcurrently(ids, 32, async (i) => {
    if (!(await slots.tryAcquire(agent, `holder-${i}`, holders, 'skip', share(i)))) throw new Error(`holder-${i} got no slot`);
  });
  const waiting = new Set(ids.map((i) => `waiter-${i}`));
  await forEachConcurrently(ids, 32, async (i) => {
    if (await slots.tryAcquire(agent, `waiter-${i}`, holders, 'queue', share(i))) throw new Error(`waiter-${i} got a slot of a full agent`);
  });
  const tryWaiter = (w: string) => slots.tryAcquire(agent, w, holders, 'queue', share(Number(w.slice('waiter-'.length))));

  const fullPolls: number[] = [];
  for (const w of [...waiting].slice(0, 500)) fullPolls.push((await measured(redis, () => tryWaiter(w))).us);

  const releases: number[] = [];
  const freePolls: number[] = [];
  const admissions: number[] = [];
  for (let i = 0; i < 50; i++) {
    releases.push((await measured(redis, () => slots.release(agent, `holder-${i}`))).us);
    // The waiters poll in turn, starting somewhere else each time, until the slot's waiter took it.
    const order = [...waiting];
    for (let k = 0; k < order.length; k++) {
      const w = order[(i * 97 + k) % order.length]!;
      const { us, result } = await measured(redis, () => tryWaiter(w));
      if (result) {
        admissions.push(us);
        waiting.delete(w);
        break;
      }
      freePolls.push(us);
    }
  }
  return {
    holders,
    tenants,
    fullPollUs: mean(fullPolls),
    freePollUs: mean(freePolls),
    releaseUs: mean(releases),
    admissionUs: mean(admissions),
  };
}
