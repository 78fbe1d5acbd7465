import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createCapacitySlots, type CapacitySlots, type CapacitySlotsOptions } from '../src/slots/capacity-slots.js';
import { waitUntil } from '../src/util/wait-until.js';
import { RedisNode } from '../tools/redis-topologies/index.js';

const suffix = randomBytes(4).toString('hex');
const keyPrefix = `test-slots-${suffix}`;
let agentCount = 0;
/** A fresh agent per test, so tests (and other files sharing this Redis) never see each other's keys. */
const newAgent = () => `agent-${suffix}-${++agentCount}`;
const leasesKey = (agent: string) => `${keyPrefix}:{${agent}}:leases`;

const defaults: CapacitySlotsOptions = { leaseMs: 60_000, waiterTtlMs: 10_000, keyPrefix };

/** Redis' own clock in ms: the scripts compare lease scores against it, not against ours. */
async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

describe('capacity slots on a real Redis', () => {
  const connectionCount = 5;
  let connections: Redis[] = [];
  let redis: Redis;
  let slots: CapacitySlots;

  beforeAll(async () => {
    connections = Array.from({ length: connectionCount }, () => new Redis(inject('redisUrl')));
    await Promise.all(connections.map((c) => c.ping()));
    redis = connections[0]!;
    slots = createCapacitySlots(redis, defaults);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    for (const c of connections) c.disconnect();
  });

  it('admits exactly `capacity` of 50 concurrent acquirers, round after round', async () => {
    const agent = newAgent();
    const capacity = 3;
    // One CapacitySlots per connection: the calls really race inside Redis, not in one client's queue.
    const racers = connections.map((c) => createCapacitySlots(c, defaults));
    for (let round = 0; round < 10; round++) {
      const members = Array.from({ length: 50 }, (_, i) => `r${round}-m${i}`);
      const results = await Promise.all(members.map((m, i) => racers[i % racers.length]!.tryAcquire(agent, m, capacity, 'skip')));
      const winners = members.filter((_, i) => results[i]);
      expect(winners).toHaveLength(capacity);
      const leases = await slots.leases(agent);
      expect(leases.map((l) => l.executionId).sort()).toEqual([...winners].sort());
      expect(await slots.waiting(agent)).toEqual([]);
      await Promise.all(members.map((m) => slots.release(agent, m)));
      expect(await slots.leases(agent)).toEqual([]);
    }
  });

  it('admits exactly `capacity` of 50 concurrent queue pollers as well', async () => {
    const agent = newAgent();
    const racers = connections.map((c) => createCapacitySlots(c, defaults));
    const members = Array.from({ length: 50 }, (_, i) => `q-m${i}`);
    const results = await Promise.all(members.map((m, i) => racers[i % racers.length]!.tryAcquire(agent, m, 3, 'queue')));
    expect(results.filter(Boolean)).toHaveLength(3);
    expect(await slots.leases(agent)).toHaveLength(3);
    // Everyone else keeps a place in the queue.
    expect(await slots.waiting(agent)).toHaveLength(47);
  });

  it('acquire is idempotent for a member that already holds a lease', async () => {
    const agent = newAgent();
    expect(await slots.tryAcquire(agent, 'a', 1, 'skip')).toBe(true);
    const [first] = await slots.leases(agent);
    expect(await slots.tryAcquire(agent, 'a', 1, 'skip')).toBe(true);
    expect(await slots.tryAcquire(agent, 'a', 1, 'queue')).toBe(true);
    const leases = await slots.leases(agent);
    expect(leases.map((l) => l.executionId)).toEqual(['a']);
    // The repeated acquire extends, never shortens, the lease.
    expect(leases[0]!.expiresAt).toBeGreaterThanOrEqual(first!.expiresAt);
    expect(await slots.tryAcquire(agent, 'b', 1, 'skip')).toBe(false);
  });

  it('release removes only the given member', async () => {
    const agent = newAgent();
    for (const m of ['a', 'b', 'c']) expect(await slots.tryAcquire(agent, m, 3, 'skip')).toBe(true);
    expect(await slots.tryAcquire(agent, 'w', 3, 'queue')).toBe(false);

    expect(await slots.release(agent, 'b')).toBe(true);
    expect((await slots.leases(agent)).map((l) => l.executionId).sort()).toEqual(['a', 'c']);
    expect(await slots.waiting(agent)).toEqual(['w']);

    // A second release, or one for a member without a lease, changes nothing else.
    expect(await slots.release(agent, 'b')).toBe(false);
    expect(await slots.release(agent, 'nobody')).toBe(false);
    expect((await slots.leases(agent)).map((l) => l.executionId).sort()).toEqual(['a', 'c']);
    expect(await slots.waiting(agent)).toEqual(['w']);

    // Releasing a waiter removes its queue place and no lease.
    expect(await slots.release(agent, 'w')).toBe(false);
    expect(await slots.waiting(agent)).toEqual([]);
    expect((await slots.leases(agent)).map((l) => l.executionId).sort()).toEqual(['a', 'c']);
  });

  it('serves queue waiters first in, first out', async () => {
    const agent = newAgent();
    // Names sort opposite to arrival, so only the arrival time can put B ahead of C.
    const [a, b, c] = ['m-a', 'z-b', 'c-c'];
    expect(await slots.tryAcquire(agent, a, 1, 'skip')).toBe(true);
    expect(await slots.tryAcquire(agent, b, 1, 'queue')).toBe(false);
    // C must enqueue in a later millisecond than B (Redis clock), so the order is by time alone.
    const bEnqueuedAt = Number(await redis.zscore(`${keyPrefix}:{${agent}}:waiting`, b));
    await waitUntil(async () => (await redisNowMs(redis)) > bEnqueuedAt, {
      what: 'the Redis clock to advance',
      timeoutMs: 5000,
      intervalMs: 2,
    });
    expect(await slots.tryAcquire(agent, c, 1, 'queue')).toBe(false);
    expect(await slots.waiting(agent)).toEqual([b, c]);

    expect(await slots.release(agent, a)).toBe(true);
    // C polls first after the release, but B is ahead of it.
    expect(await slots.tryAcquire(agent, c, 1, 'queue')).toBe(false);
    expect(await slots.tryAcquire(agent, b, 1, 'queue')).toBe(true);
    expect(await slots.waiting(agent)).toEqual([c]);
    expect(await slots.tryAcquire(agent, c, 1, 'queue')).toBe(false);

    expect(await slots.release(agent, b)).toBe(true);
    expect(await slots.tryAcquire(agent, c, 1, 'queue')).toBe(true);
    expect(await slots.waiting(agent)).toEqual([]);
    expect((await slots.leases(agent)).map((l) => l.executionId)).toEqual([c]);
  });

  it('a skip start never jumps ahead of waiting queue members', async () => {
    const agent = newAgent();
    expect(await slots.tryAcquire(agent, 'holder', 1, 'skip')).toBe(true);
    expect(await slots.tryAcquire(agent, 'waiter', 1, 'queue')).toBe(false);
    expect(await slots.release(agent, 'holder')).toBe(true);

    // The slot is free, but it belongs to the waiter.
    expect(await slots.tryAcquire(agent, 'skipper', 1, 'skip')).toBe(false);
    expect(await slots.leases(agent)).toEqual([]);
    expect(await slots.tryAcquire(agent, 'waiter', 1, 'queue')).toBe(true);

    expect(await slots.tryAcquire(agent, 'skipper', 1, 'skip')).toBe(false);
    expect(await slots.release(agent, 'waiter')).toBe(true);
    expect(await slots.tryAcquire(agent, 'skipper', 1, 'skip')).toBe(true);
  });

  it('a released member never takes a slot or a queue place again: a cancelled wait that tries late gets nothing', async () => {
    const agent = newAgent();
    expect(await slots.tryAcquire(agent, 'holder', 1, 'skip')).toBe(true);
    expect(await slots.tryAcquire(agent, 'cancelled', 1, 'queue')).toBe(false);
    // Its execution ends while it waits: the conclusion releases it, which also takes its queue place.
    expect(await slots.release(agent, 'cancelled')).toBe(false);
    expect(await slots.waiting(agent)).toEqual([]);
    expect(await slots.release(agent, 'holder')).toBe(true);

    // The slot is free, but the wait's late tries must leave it free.
    expect(await slots.tryAcquire(agent, 'cancelled', 1, 'queue')).toBe(false);
    expect(await slots.tryAcquire(agent, 'cancelled', 1, 'skip')).toBe(false);
    expect(await slots.leases(agent)).toEqual([]);
    expect(await slots.waiting(agent)).toEqual([]);
    expect(await slots.tryAcquire(agent, 'next', 1, 'skip')).toBe(true);
  });

  it('expired leases still count against capacity', async () => {
    const agent = newAgent();
    const shortLeases = createCapacitySlots(redis, { ...defaults, leaseMs: 1 });
    expect(await shortLeases.tryAcquire(agent, 'old', 1, 'skip')).toBe(true);
    const [lease] = await shortLeases.leases(agent);
    expect(lease).toBeDefined();
    await waitUntil(async () => (await redisNowMs(redis)) > lease!.expiresAt, {
      what: 'the lease to expire on the Redis clock',
      timeoutMs: 5000,
      intervalMs: 2,
    });

    expect(await shortLeases.tryAcquire(agent, 'new', 1, 'skip')).toBe(false);
    expect(await shortLeases.tryAcquire(agent, 'queued', 1, 'queue')).toBe(false);
    expect(await slots.tryAcquire(agent, 'other', 1, 'skip')).toBe(false);
    // Suspect, not reclaimed: the expired lease is still there for the reconciler to judge.
    expect((await shortLeases.leases(agent)).map((l) => l.executionId)).toEqual(['old']);
  });

  it('renew extends a held lease but never re-creates one; restore does', async () => {
    const agent = newAgent();
    expect(await slots.tryAcquire(agent, 'a', 2, 'skip')).toBe(true);
    const [before] = await slots.leases(agent);
    expect(await slots.renew(agent, 'a')).toBe(true);
    const [after] = await slots.leases(agent);
    expect(after!.expiresAt).toBeGreaterThanOrEqual(before!.expiresAt);

    // Redis lost the key (flushed or restarted without persistence).
    expect(await redis.del(leasesKey(agent))).toBe(1);
    expect(await slots.leases(agent)).toEqual([]);

    expect(await slots.renew(agent, 'a')).toBe(false);
    expect(await slots.leases(agent)).toEqual([]);

    expect(await slots.restore(agent, 'a')).toBe(false);
    const restored = await slots.leases(agent);
    expect(restored.map((l) => l.executionId)).toEqual(['a']);
    expect(restored[0]!.expiresAt).toBeGreaterThan(await redisNowMs(redis));
    // The restored lease counts again, as the rebuild that the lost marker calls for finds `a` in Postgres.
    const withRows = createCapacitySlots(redis, { ...defaults, holders: async () => [{ executionId: 'a', tenant: 'default' }] });
    expect(await withRows.tryAcquire(agent, 'b', 1, 'skip')).toBe(false);
    expect((await withRows.leases(agent)).map((l) => l.executionId)).toEqual(['a']);
  });

  it('a waiter that stops polling loses its place after waiterTtlMs', async () => {
    const agent = newAgent();
    const waiterTtlMs = 3000;
    const quick = createCapacitySlots(redis, { ...defaults, waiterTtlMs });
    const seenKey = `${keyPrefix}:{${agent}}:seen`;
    const placeOf = async (member: string) => redis.zscore(`${keyPrefix}:{${agent}}:waiting`, member);
    expect(await quick.tryAcquire(agent, 'holder', 1, 'skip')).toBe(true);
    expect(await quick.tryAcquire(agent, 'gone', 1, 'queue')).toBe(false);
    expect(await quick.tryAcquire(agent, 'alive', 1, 'queue')).toBe(false);
    expect((await quick.waiting(agent)).sort()).toEqual(['alive', 'gone']);
    const goneSeenAt = Number(await redis.zscore(seenKey, 'gone'));

    // Only `alive` keeps polling; `gone` (its worker died) falls out of the queue. Each poll's outcome
    // is predicted from the Redis times the script judges by (a waiter last seen waiterTtlMs or more
    // before the poll is dropped), so a slow loop on a loaded machine changes the prediction, not the verdict.
    const mismatches: string[] = [];
    let pollsKeepingAlive = 0;
    await waitUntil(
      async () => {
        const aliveSeenAt = Number(await redis.zscore(seenKey, 'alive'));
        const aliveBefore = await placeOf('alive');
        if (await quick.tryAcquire(agent, 'alive', 1, 'queue')) mismatches.push('alive was admitted while the holder held the only slot');
        // The poll stamps `alive` with the Redis time it ran at.
        const polledAt = Number(await redis.zscore(seenKey, 'alive'));
        const goneKept = (await quick.waiting(agent)).includes('gone');
        if (goneKept !== polledAt - goneSeenAt < waiterTtlMs)
          mismatches.push(`gone was ${goneKept ? 'kept' : 'dropped'} ${polledAt - goneSeenAt} ms after its last poll`);
        const aliveKept = (await placeOf('alive')) === aliveBefore;
        if (aliveKept !== polledAt - aliveSeenAt < waiterTtlMs)
          mismatches.push(`alive ${aliveKept ? 'kept' : 'lost'} its place ${polledAt - aliveSeenAt} ms after its previous poll`);
        if (aliveKept) pollsKeepingAlive += 1;
        return !goneKept;
      },
      { what: 'the silent waiter to lose its place', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(mismatches).toEqual([]);
    // Polls came often enough to show a place kept by polling, not only places lost.
    expect(pollsKeepingAlive).toBeGreaterThan(0);
    expect(await quick.waiting(agent)).toEqual(['alive']);

    expect(await quick.release(agent, 'holder')).toBe(true);
    expect(await quick.tryAcquire(agent, 'alive', 1, 'queue')).toBe(true);
    // The retry of the lost waiter enqueues it again, at the back.
    expect(await quick.tryAcquire(agent, 'gone', 1, 'queue')).toBe(false);
    expect(await quick.waiting(agent)).toEqual(['gone']);
  });
});

/**
 * Asynchronous replication: a replica promoted while behind has the rebuild marker (replicated
 * long ago) but not the last leases the old master acknowledged. Its new replication id tells.
 */
describe('capacity slots on a replica promoted while it lagged behind', () => {
  let dir: string;
  let master: RedisNode;
  let replica: RedisNode;
  const clients: Redis[] = [];
  /** What Postgres says holds a slot: every acquire the old master acknowledged. */
  const holders: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-promoted-'));
    master = await RedisNode.start({ dir: join(dir, 'master') });
    replica = await RedisNode.start({ dir: join(dir, 'replica'), args: ['--replicaof', '127.0.0.1', String(master.port)] });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await replica?.stop();
    await master?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const slotsOn = (node: RedisNode) => {
    const client = node.connect();
    clients.push(client);
    return {
      client,
      slots: createCapacitySlots(client, {
        ...defaults,
        holders: async () => holders.map((executionId) => ({ executionId, tenant: 'default' })),
      }),
    };
  };

  it('rebuilds the leases from the holders before anyone is admitted, dropping the ones the old master released', async () => {
    const agent = newAgent();
    const old = slotsOn(master);
    for (const member of ['a', 'b']) {
      expect(await old.slots.tryAcquire(agent, member, 3, 'skip')).toBe(true);
      holders.push(member);
    }
    await waitUntil(async () => (await old.client.call('WAIT', '1', '1000')) === 1, {
      what: 'the replica to have both leases',
      timeoutMs: 10_000,
    });
    // Promoted now; the old master goes on acknowledging what the replica never sees.
    const promoted = slotsOn(replica);
    expect(await promoted.client.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect(await old.slots.tryAcquire(agent, 'c', 3, 'skip')).toBe(true);
    holders.push('c');
    expect(await old.slots.release(agent, 'a')).toBe(true);
    holders.splice(holders.indexOf('a'), 1);

    // The promoted node's snapshot says a and b. Counted as it stands, it would admit two more
    // beside b and c: four on a capacity of 3. Rebuilt from the holders, it admits one.
    expect((await promoted.slots.leases(agent)).map((l) => l.executionId).sort()).toEqual(['a', 'b']);
    expect(await promoted.slots.tryAcquire(agent, 'd', 3, 'skip')).toBe(true);
    expect((await promoted.slots.leases(agent)).map((l) => l.executionId).sort()).toEqual(['b', 'c', 'd']);
    expect(await promoted.slots.tryAcquire(agent, 'e', 3, 'skip')).toBe(false);
  });
});
