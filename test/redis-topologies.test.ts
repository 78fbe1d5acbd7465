import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/webhook.js';
import { createStandingAlerts } from '../src/alerts/standing-alerts.js';
import { loadConfig } from '../src/config/config.js';
import { createRedis, redisFailureReason } from '../src/db/redis.js';
import { createFullSweepTurns } from '../src/reconciler/full-sweep-turns.js';
import { createCapacitySlots, type CapacitySlots } from '../src/slots/capacity-slots.js';
import { createLogger, silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { createTestCertificates } from '../tools/real-temporal/certificates.js';
import { RedisClusterSet, RedisNode, SentinelSet } from '../tools/redis-topologies/index.js';
import { recordingAlerter } from './support/alerting-deps.js';
import { startHarness } from './support/lifeline-harness.js';

const slotOptions = { leaseMs: 60_000, waiterTtlMs: 10_000 };

/** Retries a command that failed because Redis was switching masters; the callers' commands are idempotent. */
async function answered<T>(step: () => Promise<T>, stats: { errors: number }): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      stats.errors++;
      if (Date.now() > deadline) throw err;
      await delay(50);
    }
  }
}

interface ChurnStats {
  acquired: number;
  errors: number;
  /** Most executions at once that had been told "you hold a slot" and not yet released. */
  maxHolders: number;
  /** The most leases Redis held right after an acquire succeeded (read on the same connection). */
  maxLeasesSeen: number;
  /** Releases, answered at the first try, that found no lease although the member had been told it held one: the failover lost it. */
  lostLeases: number;
}

/**
 * The rows of one agent's executions that hold a slot, as Postgres would have them: what the slots
 * rebuild from (capacity-slots.ts `holders`).
 */
const rows = new Map<string, Set<string>>();
const rowsOf = (agent: string) => rows.get(agent) ?? rows.set(agent, new Set()).get(agent)!;

/**
 * `workers` loops of admission, check, release on one agent with `capacity` slots until `stop`:
 * what Lifeline's runs do, compressed. An admission is Lifeline's: acquire, write the row, then
 * check the lease is still there and acquire again if not (slotStillHeld). Every answer is
 * recorded; a failed command is retried as is.
 */
function churn(slots: CapacitySlots, agent: string, capacity: number, workers: number, stop: AbortSignal) {
  const stats: ChurnStats = { acquired: 0, errors: 0, maxHolders: 0, maxLeasesSeen: 0, lostLeases: 0 };
  const holders = new Set<string>();
  const written = rowsOf(agent);
  const admitted = async (member: string) => {
    if (!(await answered(() => slots.tryAcquire(agent, member, capacity, 'skip'), stats))) return false;
    written.add(member);
    const held =
      (await answered(() => slots.renew(agent, member), stats)) ||
      (await answered(() => slots.tryAcquire(agent, member, capacity, 'skip'), stats));
    if (!held) written.delete(member);
    return held;
  };
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; !stop.aborted; n++) {
      const member = `w${w}-${n}`;
      if (await admitted(member)) {
        stats.acquired++;
        holders.add(member);
        stats.maxHolders = Math.max(stats.maxHolders, holders.size);
        const leases = await answered(() => slots.leases(agent), stats);
        stats.maxLeasesSeen = Math.max(stats.maxLeasesSeen, leases.length);
        await delay(2);
        // The execution has concluded from here on (its row says so), whether or not its release reaches Redis at once.
        holders.delete(member);
        written.delete(member);
        const errorsBefore = stats.errors;
        const held = await answered(() => slots.release(agent, member), stats);
        if (!held && stats.errors === errorsBefore) stats.lostLeases++;
      } else {
        await delay(5);
      }
    }
  });
  return { stats, done: Promise.all(loops) };
}

/** The port of the server a client's commands reach now. */
async function serverPort(redis: Redis | Cluster): Promise<number> {
  const [, port] = (await redis.call('CONFIG', 'GET', 'port')) as [string, string];
  if (port !== '0') return Number(port);
  const [, tlsPort] = (await redis.call('CONFIG', 'GET', 'tls-port')) as [string, string];
  return Number(tlsPort);
}

describe('Redis Sentinel: capacity slots through failovers under load', () => {
  let dir: string;
  let set: SentinelSet;
  let redis: Redis | Cluster;
  let slots: CapacitySlots;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-sentinel-'));
    set = await SentinelSet.start(dir);
    const config = loadConfig({ REDIS_URL: set.url });
    redis = createRedis(config.redisUrl!, silentLogger());
    slots = createCapacitySlots(redis, {
      ...slotOptions,
      holders: async (agent) => [...rowsOf(agent)].map((executionId) => ({ executionId, tenant: 'default' })),
    });
  });

  afterAll(async () => {
    redis?.disconnect();
    await set?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const failoverUnderLoad = async (agent: string, failover: (masterPort: number) => Promise<void>) => {
    const capacity = 3;
    const oldMaster = await set.masterPort();
    await waitUntil(async () => (await serverPort(redis)) === oldMaster, { what: 'the client on the current master', timeoutMs: 30_000 });
    const stop = new AbortController();
    const { stats, done } = churn(slots, agent, capacity, 8, stop.signal);
    try {
      await waitUntil(async () => stats.acquired >= 30, { what: '30 acquires before the failover', timeoutMs: 20_000 });
      await failover(oldMaster);
      const newMaster = await waitUntil(async () => ((await set.masterPort()) !== oldMaster ? set.masterPort() : false), {
        what: 'the sentinels to name a new master',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      // Lifeline's client follows the sentinels to the new master, and slots keep being granted there.
      await waitUntil(async () => (await serverPort(redis)) === newMaster, {
        what: `Lifeline's Redis client to reach the new master 127.0.0.1:${newMaster}`,
        timeoutMs: 30_000,
      });
      const before = stats.acquired;
      await waitUntil(async () => stats.acquired >= before + 30, { what: '30 acquires on the new master', timeoutMs: 30_000 });
    } finally {
      stop.abort();
      await done;
    }
    // Redis never held more leases than the capacity, and nobody was told "yours" beyond it, even
    // when the failover lost leases the old master had acknowledged (asynchronous replication):
    // the promoted master's new replication id has them rebuilt from the rows first.
    expect(stats.maxLeasesSeen).toBeLessThanOrEqual(capacity);
    expect(stats.maxHolders).toBeLessThanOrEqual(capacity);
    expect(await slots.leases(agent)).toEqual([]);
    expect(await slots.waiting(agent)).toEqual([]);
    console.log(`failover of ${agent}: ${JSON.stringify(stats)}`);
    return stats;
  };

  it('keeps granting at most `capacity` slots through SENTINEL FAILOVER', async () => {
    await failoverUnderLoad('sentinel-failover', async () => {
      const client = set.sentinels[0]!.connect();
      try {
        expect(await client.call('SENTINEL', 'FAILOVER', 'lifeline')).toBe('OK');
      } finally {
        client.disconnect();
      }
    });
    // The old master is a replica of the new one again: the next test's failover has somewhere to go.
    await set.waitUntilSettled(await set.masterPort());
  });

  it('runs real executions to the end through a SENTINEL FAILOVER, queued ones taking the slots freed', async () => {
    const h = await startHarness({ agents: { demo: { capacity: 2 } }, redisUrl: set.url });
    try {
      const agent = h.agent('demo');
      const started = await Promise.all(
        Array.from({ length: 5 }, (_, i) => h.client.startExecution({ agent, prompt: `succeed 2 through failover ${i}` })),
      );
      await waitUntil(async () => (await h.slots.leases(agent)).length === 2, { what: 'two executions holding slots', timeoutMs: 30_000 });
      const oldMaster = await set.masterPort();
      const client = set.sentinels[1]!.connect();
      try {
        expect(await client.call('SENTINEL', 'FAILOVER', 'lifeline')).toBe('OK');
      } finally {
        client.disconnect();
      }
      const rows = await Promise.all(started.map(({ executionId }) => h.client.waitForExecution(executionId, 90_000)));
      expect(rows.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
      expect(await set.masterPort()).not.toBe(oldMaster);
      await waitUntil(async () => (await h.slots.leases(agent)).length === 0, { what: 'every slot released', timeoutMs: 30_000 });
      await set.waitUntilSettled(await set.masterPort());
    } finally {
      await h.close();
    }
  });

  it('keeps granting at most `capacity` slots when the master is killed (SIGKILL)', async () => {
    await failoverUnderLoad('sentinel-sigkill', async (masterPort) => set.node(masterPort).kill());
  });
});

describe('Redis Cluster: every Lifeline command on three masters', () => {
  let dir: string;
  let cluster: RedisClusterSet;
  let redis: Redis | Cluster;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-cluster-'));
    cluster = await RedisClusterSet.start(dir);
    redis = createRedis(loadConfig({ REDIS_URL: cluster.url }).redisUrl!, silentLogger());
  });

  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('grants exactly `capacity` slots per agent, for agents on different masters, racing from several clients', async () => {
    const agents = ['coder', 'reviewer', 'planner', 'tester', 'writer', 'a-1', 'b_2'];
    // The agents' keys spread over the cluster: each agent's keys on one master, the agents on several.
    const keySlots = await Promise.all(
      agents.map(async (a) => Number(await redis.call('CLUSTER', 'KEYSLOT', `lifeline:slots:{${a}}:leases`))),
    );
    expect(new Set(keySlots).size).toBe(agents.length);
    const owners = await redis.call('CLUSTER', 'SLOTS');
    const ownerOf = (slot: number) => (owners as [number, number, [string, number]][]).find(([lo, hi]) => slot >= lo && slot <= hi)![2][1];
    expect(new Set(keySlots.map(ownerOf)).size).toBe(3);

    const clients = Array.from({ length: 3 }, () => createRedis(cluster.url, silentLogger()));
    try {
      const racers = clients.map((c) => createCapacitySlots(c, slotOptions));
      const slots = racers[0]!;
      await Promise.all(
        agents.map(async (agent) => {
          for (let round = 0; round < 3; round++) {
            const members = Array.from({ length: 12 }, (_, i) => `${agent}-r${round}-${i}`);
            const got = await Promise.all(members.map((m, i) => racers[i % racers.length]!.tryAcquire(agent, m, 2, 'queue')));
            const winners = members.filter((_, i) => got[i]);
            expect(winners).toHaveLength(2);
            expect((await slots.leases(agent)).map((l) => l.executionId).sort()).toEqual([...winners].sort());
            expect(await slots.waiting(agent)).toHaveLength(10);
            expect(await slots.renew(agent, winners[0]!)).toBe(true);
            await Promise.all(members.map((m) => slots.release(agent, m)));
            expect(await slots.leases(agent)).toEqual([]);
            expect(await slots.waiting(agent)).toEqual([]);
            // A released execution never takes a slot again; a vanished lease of a running one is restored.
            expect(await slots.tryAcquire(agent, members[0]!, 2, 'skip')).toBe(false);
            expect(await slots.restore(agent, `${agent}-running`)).toBe(false);
            expect(await slots.release(agent, `${agent}-running`)).toBe(true);
          }
        }),
      );
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('runs real executions to the end with REDIS_URL=redis+cluster://', async () => {
    const h = await startHarness({ agents: { demo: { capacity: 1 }, other: { capacity: 1 } }, redisUrl: cluster.url });
    try {
      const started = await Promise.all(
        ['demo', 'demo', 'other', 'other'].map((a, i) =>
          h.client.startExecution({ agent: h.agent(a), prompt: `succeed 0 on a cluster ${i}` }),
        ),
      );
      const rows = await Promise.all(started.map(({ executionId }) => h.client.waitForExecution(executionId, 90_000)));
      expect(rows.map((r) => r.status)).toEqual(Array(4).fill('succeeded'));
      for (const a of ['demo', 'other']) {
        await waitUntil(async () => (await h.slots.leases(h.agent(a))).length === 0, { what: `${a}'s slots released`, timeoutMs: 30_000 });
      }
    } finally {
      await h.close();
    }
  });

  it('keeps standing alerts to one per condition and hands out full-sweep turns', async () => {
    const { alerter, alerts: sent } = recordingAlerter();
    const alerts = createStandingAlerts(redis, alerter, { repeatSeconds: 60 });
    const alert: Alert = { kind: 'execution_stuck', summary: 'stuck' };
    for (const condition of ['exec-1', 'exec-2', 'exec-3']) {
      await alerts.send(alert, condition);
      await alerts.send(alert, condition);
    }
    expect(sent).toHaveLength(3);

    const turns = createFullSweepTurns(redis, { intervalSeconds: 60, key: `lifeline:test:full-sweep:${Date.now()}` });
    expect(await turns.claim()).toBe(true);
    expect(await turns.claim()).toBe(false);
    await turns.giveBack();
    expect(await turns.claim()).toBe(true);
  });
});

describe('Redis over TLS', () => {
  let dir: string;
  let node: RedisNode;
  let certs: Awaited<ReturnType<typeof createTestCertificates>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-redis-tls-'));
    certs = await createTestCertificates(join(dir, 'certs'));
    node = await RedisNode.start({ dir: join(dir, 'node'), tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
  });

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with rediss:// and LIFELINE_REDIS_CA_FILE, certificate verified, and runs the slot scripts', async () => {
    const config = loadConfig({ REDIS_URL: `rediss://127.0.0.1:${node.port}`, LIFELINE_REDIS_CA_FILE: certs.ca.cert });
    const redis = createRedis(config.redisUrl!, silentLogger(), { caFile: config.redisCaFile });
    try {
      expect(await redis.ping()).toBe('PONG');
      const slots = createCapacitySlots(redis, slotOptions);
      expect(await slots.tryAcquire('tls-agent', 'e1', 1, 'skip')).toBe(true);
      expect(await slots.tryAcquire('tls-agent', 'e2', 1, 'skip')).toBe(false);
      expect(await slots.release('tls-agent', 'e1')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  const tlsFiles = () => ({ cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert, client: certs.client });

  /** Slots on two agents through `redis`, as a smoke test of a topology. */
  const slotsWork = async (redis: Redis | Cluster) => {
    const slots = createCapacitySlots(redis, slotOptions);
    for (const agent of ['tls-coder', 'tls-reviewer']) {
      expect(await slots.tryAcquire(agent, 'e1', 1, 'skip')).toBe(true);
      expect(await slots.tryAcquire(agent, 'e2', 1, 'skip')).toBe(false);
      expect(await slots.release(agent, 'e1')).toBe(true);
      expect(await slots.tryAcquire(agent, 'e2', 1, 'skip')).toBe(true);
    }
  };

  it('reaches a Sentinel-managed master over TLS (rediss+sentinel), the sentinels over TLS too', async () => {
    const set = await SentinelSet.start(join(dir, 'sentinel'), tlsFiles());
    try {
      const config = loadConfig({ REDIS_URL: set.url, LIFELINE_REDIS_CA_FILE: certs.ca.cert });
      expect(config.redisUrl).toMatch(/^rediss\+sentinel:/);
      const redis = createRedis(config.redisUrl!, silentLogger(), { caFile: config.redisCaFile });
      try {
        expect(await serverPort(redis)).toBe(await set.masterPort());
        await slotsWork(redis);
      } finally {
        redis.disconnect();
      }
    } finally {
      await set.stop();
    }
  });

  it('reaches a Redis Cluster over TLS (rediss+cluster)', async () => {
    const cluster = await RedisClusterSet.start(join(dir, 'cluster'), { tls: tlsFiles() });
    try {
      const config = loadConfig({ REDIS_URL: cluster.url, LIFELINE_REDIS_CA_FILE: certs.ca.cert });
      expect(config.redisUrl).toMatch(/^rediss\+cluster:/);
      const redis = createRedis(config.redisUrl!, silentLogger(), { caFile: config.redisCaFile });
      try {
        await slotsWork(redis);
      } finally {
        redis.disconnect();
      }
    } finally {
      await cluster.stop();
    }
  });

  it('refuses a server its CA file does not vouch for, in one line naming LIFELINE_REDIS_CA_FILE', async () => {
    const lines: string[] = [];
    const log = createLogger('tls-test', 'warn', { write: (line: string) => void lines.push(line) });
    const redis = createRedis(`rediss://127.0.0.1:${node.port}`, log, { caFile: certs.unrelatedCa.cert });
    try {
      const reason = await redis.ping().then(
        () => 'answered',
        (err: unknown) => redisFailureReason(redis, err),
      );
      expect(reason).toMatch(
        new RegExp(`^Redis' TLS certificate is not trusted by the CA in LIFELINE_REDIS_CA_FILE \\(${certs.unrelatedCa.cert}\\): [^\\n]+$`),
      );
      expect(lines.join('')).toContain('LIFELINE_REDIS_CA_FILE');
    } finally {
      redis.disconnect();
    }
  });
});
