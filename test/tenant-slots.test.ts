import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCapacitySlots, type CapacitySlots, type TenantShare } from '../src/slots/capacity-slots.js';

const suffix = randomBytes(4).toString('hex');
const keyPrefix = `test-tenant-slots-${suffix}`;
let agentCount = 0;
const newAgent = () => `agent-${suffix}-${++agentCount}`;

const share = (tenant: string, settings: Partial<TenantShare> = {}): TenantShare => ({ tenant, weight: 1, priority: 3, ...settings });

describe('capacity slots shared by tenants, on a real Redis', () => {
  let redis: Redis;
  let slots: CapacitySlots;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    slots = createCapacitySlots(redis, { leaseMs: 60_000, waiterTtlMs: 60_000, keyPrefix });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** Fills the agent with holders of another tenant, queues the waiters (in this order), then frees the agent. */
  async function queueBehindFullAgent(agent: string, capacity: number, waiters: [member: string, share: TenantShare][]) {
    for (let i = 0; i < capacity; i++) expect(await slots.tryAcquire(agent, `holder-${i}`, capacity, 'skip', share('other'))).toBe(true);
    for (const [member, s] of waiters) expect(await slots.tryAcquire(agent, member, capacity, 'queue', s)).toBe(false);
    for (let i = 0; i < capacity; i++) expect(await slots.release(agent, `holder-${i}`)).toBe(true);
  }

  /** Every waiter polls, in the order given, until a round admits nobody; returns who holds a lease. */
  async function pollAll(agent: string, capacity: number, waiters: [member: string, share: TenantShare][]): Promise<string[]> {
    for (let admitted = true; admitted;) {
      admitted = false;
      for (const [member, s] of waiters) {
        const held = (await slots.leases(agent)).some((l) => l.executionId === member);
        if (!held && (await slots.tryAcquire(agent, member, capacity, 'queue', s))) admitted = true;
      }
    }
    return (await slots.leases(agent)).map((l) => l.executionId).sort();
  }

  it('gives free slots to waiting tenants by weight, not by who came first or polls first', async () => {
    const agent = newAgent();
    const heavy = share('heavy', { weight: 3 });
    const light = share('light');
    // The light tenant's six arrive first, and poll first.
    const waiters: [string, TenantShare][] = [
      ...Array.from({ length: 6 }, (_, i) => [`light-${i}`, light] as [string, TenantShare]),
      ...Array.from({ length: 6 }, (_, i) => [`heavy-${i}`, heavy] as [string, TenantShare]),
    ];
    await queueBehindFullAgent(agent, 4, waiters);
    expect(await pollAll(agent, 4, waiters)).toEqual(['heavy-0', 'heavy-1', 'heavy-2', 'light-0']);
    // Within a tenant, first in, first out: light-0 came first, and the others still wait in order.
    expect((await slots.waiting(agent)).filter((m) => m.startsWith('light'))).toEqual([
      'light-1',
      'light-2',
      'light-3',
      'light-4',
      'light-5',
    ]);
  });

  it('serves a better priority first, whatever its arrival or weight', async () => {
    const agent = newAgent();
    const waiters: [string, TenantShare][] = [
      ['low-0', share('low', { priority: 5, weight: 100 })],
      ['low-1', share('low', { priority: 5, weight: 100 })],
      ['high-0', share('high', { priority: 1 })],
    ];
    await queueBehindFullAgent(agent, 1, waiters);
    // low-0 came first and polls first, and its tenant weighs a hundred times more: high-0 still goes first.
    expect(await slots.tryAcquire(agent, 'low-0', 1, 'queue', waiters[0]![1])).toBe(false);
    expect(await slots.tryAcquire(agent, 'high-0', 1, 'queue', waiters[2]![1])).toBe(true);
    expect(await slots.release(agent, 'high-0')).toBe(true);
    expect(await slots.tryAcquire(agent, 'low-1', 1, 'queue', waiters[1]![1])).toBe(false);
    expect(await slots.tryAcquire(agent, 'low-0', 1, 'queue', waiters[0]![1])).toBe(true);
  });

  it('keeps a tenant within its per-agent limit while the agent has room, and lets other tenants use that room', async () => {
    const agent = newAgent();
    const limited = share('limited', { maxRunningPerAgent: 2 });
    for (const member of ['l-0', 'l-1']) expect(await slots.tryAcquire(agent, member, 5, 'skip', limited)).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-2', 5, 'skip', limited)).toBe(false);
    expect(await slots.tryAcquire(agent, 'l-3', 5, 'queue', limited)).toBe(false);
    // The limited tenant's waiter does not hold up another tenant's start, queued or not.
    expect(await slots.tryAcquire(agent, 'o-0', 5, 'skip', share('other'))).toBe(true);
    expect(await slots.tryAcquire(agent, 'o-1', 5, 'queue', share('other'))).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-3', 5, 'queue', limited)).toBe(false);
    expect(await slots.release(agent, 'l-0')).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-3', 5, 'queue', limited)).toBe(true);
    expect((await slots.leases(agent)).length).toBe(4);
  });

  it('applies a limit changed while its runs queue at the next try, without a restart', async () => {
    const agent = newAgent();
    const before = share('team', { maxRunningPerAgent: 1 });
    expect(await slots.tryAcquire(agent, 't-0', 4, 'queue', before)).toBe(true);
    expect(await slots.tryAcquire(agent, 't-1', 4, 'queue', before)).toBe(false);
    expect(await slots.tryAcquire(agent, 't-2', 4, 'queue', before)).toBe(false);
    // Raised: the waiters' next tries carry the new limit.
    const raised = share('team', { maxRunningPerAgent: 2 });
    expect(await slots.tryAcquire(agent, 't-2', 4, 'queue', raised)).toBe(false);
    expect(await slots.tryAcquire(agent, 't-1', 4, 'queue', raised)).toBe(true);
    expect(await slots.tryAcquire(agent, 't-2', 4, 'queue', raised)).toBe(false);
    // Lowered below what it holds: nothing is taken back, and nothing more is given until it is under.
    const lowered = share('team', { maxRunningPerAgent: 1 });
    expect(await slots.release(agent, 't-0')).toBe(true);
    expect(await slots.tryAcquire(agent, 't-2', 4, 'queue', lowered)).toBe(false);
    expect(await slots.release(agent, 't-1')).toBe(true);
    expect(await slots.tryAcquire(agent, 't-2', 4, 'queue', lowered)).toBe(true);
  });

  it("a skip start never jumps ahead of its own tenant's waiters, and takes room no waiter may use", async () => {
    const agent = newAgent();
    const limited = share('limited', { maxRunningPerAgent: 1 });
    expect(await slots.tryAcquire(agent, 'l-0', 2, 'skip', limited)).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-1', 2, 'queue', limited)).toBe(false);
    // One slot is free, but only the limited tenant waits for it: another tenant's skip start takes it.
    expect(await slots.tryAcquire(agent, 'o-0', 2, 'skip', share('other'))).toBe(true);
    expect(await slots.release(agent, 'o-0')).toBe(true);
    expect(await slots.release(agent, 'l-0')).toBe(true);
    // Now l-1 may run: a skip start of its own tenant stands behind it.
    expect(await slots.tryAcquire(agent, 'l-2', 2, 'skip', limited)).toBe(false);
    expect(await slots.tryAcquire(agent, 'l-1', 2, 'queue', limited)).toBe(true);
  });

  it("keeps a tenant's per-agent limit when its leases changed by a writer that keeps no counts", async () => {
    const agent = newAgent();
    const key = (name: string) => `${keyPrefix}:{${agent}}:${name}`;
    const limited = share('limited', { maxRunningPerAgent: 2 });
    expect(await slots.tryAcquire(agent, 'l-0', 5, 'skip', limited)).toBe(true);
    expect(await slots.tryAcquire(agent, 'o-0', 5, 'skip', share('other'))).toBe(true);
    // An earlier version's acquire for the limited tenant and release of the other's: as many leases
    // as before, but the limited tenant holds one more, and only its usage entry shows it.
    const now = Date.now();
    await redis.zadd(key('leases'), now + 60_000, 'earlier-l');
    await redis.hset(key('owners'), 'earlier-l', `limited|${now}`);
    await redis.hset(key('usage'), 'limited', `0.000|${now + 1}`);
    await redis.zrem(key('leases'), 'o-0');
    await redis.hdel(key('owners'), 'o-0');
    expect(await slots.tryAcquire(agent, 'l-1', 5, 'skip', limited)).toBe(false);
    // A lease written without its usage (a rebuild, a restore): the number of leases shows it.
    expect(await slots.release(agent, 'l-0')).toBe(true);
    await redis.zadd(key('leases'), now + 60_000, 'rebuilt-l');
    await redis.hset(key('owners'), 'rebuilt-l', `limited|${now}`);
    expect(await slots.tryAcquire(agent, 'l-1', 5, 'skip', limited)).toBe(false);
    expect(await slots.release(agent, 'earlier-l')).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-1', 5, 'skip', limited)).toBe(true);
  });

  it('forgets the settings of a tenant with no waiter left, and takes them back at its next try', async () => {
    const agent = newAgent();
    const limited = share('limited', { maxRunningPerAgent: 1 });
    const settingsOf = (tenant: string) => redis.hexists(`${keyPrefix}:{${agent}}:tenants`, tenant);
    expect(await slots.tryAcquire(agent, 'o-0', 2, 'skip', share('other'))).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-0', 2, 'queue', limited)).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-1', 2, 'queue', limited)).toBe(false);
    expect(await settingsOf('limited')).toBe(1);
    // l-1 gives up its wait (its execution ended): the limited tenant has no waiter left.
    expect(await slots.release(agent, 'l-1')).toBe(false);
    expect(await slots.release(agent, 'o-0')).toBe(true);
    expect(await slots.tryAcquire(agent, 'o-1', 2, 'skip', share('other'))).toBe(true);
    expect(await settingsOf('limited')).toBe(0);
    // Its next try carries its limit again, which still holds it to one slot.
    expect(await slots.release(agent, 'o-1')).toBe(true);
    expect(await slots.tryAcquire(agent, 'l-2', 2, 'skip', limited)).toBe(false);
    expect(await settingsOf('limited')).toBe(1);
  });

  it('counts a lease and a wait recorded before tenants as the default tenant, in their order', async () => {
    const agent = newAgent();
    expect(await slots.tryAcquire(agent, 'holder', 1, 'skip')).toBe(true);
    // What an earlier version's acquire left: a queue place with no tenant recorded.
    await redis.zadd(`${keyPrefix}:{${agent}}:waiting`, 0, 'legacy');
    await redis.zadd(`${keyPrefix}:{${agent}}:seen`, Date.now(), 'legacy');
    expect(await slots.tryAcquire(agent, 'newer', 1, 'queue')).toBe(false);
    expect(await slots.release(agent, 'holder')).toBe(true);
    expect(await slots.tryAcquire(agent, 'newer', 1, 'queue')).toBe(false);
    expect(await slots.tryAcquire(agent, 'legacy', 1, 'queue')).toBe(true);
    expect(await slots.waiting(agent)).toEqual(['newer']);
  });

  it('keeps a tenant within its limit across agents, even when its tries race, and serves others meanwhile', async () => {
    const [x, y] = [newAgent(), newAgent()];
    const limited = share('wide', { maxRunning: 3 });
    // Twenty tries at once, spread over two agents with room for all of them.
    const members = Array.from({ length: 20 }, (_, i) => `w-${i}`);
    const results = await Promise.all(members.map((m, i) => slots.tryAcquire(i % 2 ? x : y, m, 10, 'queue', limited)));
    const winners = members.filter((_, i) => results[i]);
    expect(winners).toHaveLength(3);
    expect((await slots.tenantHolds.holders('wide')).map((h) => h.executionId).sort()).toEqual([...winners].sort());
    // The limited tenant's waiters came first, but another tenant takes the room they may not use.
    expect(await slots.tryAcquire(x, 'o-0', 10, 'queue', share('narrow'))).toBe(true);
    const [first, ...rest] = winners;
    const waiting = members.filter((m) => !winners.includes(m));
    expect(await slots.release(members.indexOf(first!) % 2 ? x : y, first!)).toBe(true);
    const next = [];
    for (const m of waiting) if (await slots.tryAcquire(members.indexOf(m) % 2 ? x : y, m, 10, 'queue', limited)) next.push(m);
    expect(next).toHaveLength(1);
    expect((await slots.tenantHolds.holders('wide')).map((h) => h.executionId).sort()).toEqual([...rest, ...next].sort());
  });

  it("rebuilds a tenant's holders from Postgres when Redis lost them, before anything is admitted against them", async () => {
    const agent = newAgent();
    const team = `rebuilt-${suffix}`;
    const holders: string[] = [];
    const withRows = createCapacitySlots(redis, {
      leaseMs: 60_000,
      waiterTtlMs: 60_000,
      keyPrefix,
      tenantHolders: async () => [...holders],
    });
    const limited = share(team, { maxRunning: 2 });
    for (const m of ['a', 'b']) {
      expect(await withRows.tryAcquire(agent, m, 10, 'skip', limited)).toBe(true);
      holders.push(m);
    }
    await redis.del(`${keyPrefix}:tenant:{${team}}:holders`);
    expect(await withRows.tryAcquire(agent, 'c', 10, 'skip', limited)).toBe(false);
    expect((await withRows.tenantHolds.holders(team)).map((h) => h.executionId).sort()).toEqual(['a', 'b']);
  });

  it("gives a tenant's hold back on release even when Redis lost the lease's owner", async () => {
    const agent = newAgent();
    const team = `forgotten-${suffix}`;
    const withRows = createCapacitySlots(redis, {
      leaseMs: 60_000,
      waiterTtlMs: 60_000,
      keyPrefix,
      tenantHolders: async () => [],
      tenantOf: async (executionId) => (executionId === 'lost' ? team : undefined),
    });
    expect(await withRows.tryAcquire(agent, 'lost', 10, 'skip', share(team, { maxRunning: 1 }))).toBe(true);
    // A flush took the owners with it, and the leases were rebuilt without them.
    await redis.del(`${keyPrefix}:{${agent}}:owners`);
    await withRows.release(agent, 'lost');
    expect(await withRows.tenantHolds.holders(team)).toEqual([]);
    expect(await withRows.tryAcquire(agent, 'next', 10, 'skip', share(team, { maxRunning: 1 }))).toBe(true);
  });
});
