import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { MASTER_NAME, RedisNode, SentinelSet } from '../redis-topologies/index.js';
import { currentScript } from '../../src/slots/slot-scripts.js';
import { waitUntil } from '../../src/util/wait-until.js';
import type { Random } from './random.js';

/** Where the chaos run's agents keep their leases and lineage (capacity-slots.ts). */
const slotKeys = (agent: string) => [`lifeline:slots:{${agent}}:leases`, `lifeline:slots:{${agent}}:lineage`];

/** How long a restarted node stays down, so that the outage hits activities in flight. */
const outageMs = 2000;

/**
 * The chaos run's Redis: a Sentinel set (one master, one replica, three sentinels) that Lifeline
 * reaches through `redis+sentinel://`. Its faults restart, fail over and flush the current master.
 */
export class ChaosRedis {
  /** How many failovers so far; the first one's kind is drawn from the seed. */
  private failovers: number | undefined;

  private constructor(private readonly set: SentinelSet) {}

  static async start(dir: string): Promise<ChaosRedis> {
    return new ChaosRedis(await SentinelSet.start(dir));
  }

  get url(): string {
    return this.set.url;
  }

  private other(port: number): RedisNode {
    const node = this.set.nodes.find((n) => n.port !== port);
    if (!node) throw new Error('no second node');
    return node;
  }

  /** Starts a node again on its port and in its directory, as a replica of `replicaOf` or as a master. */
  private async startAgain(node: RedisNode, replicaOf: number | undefined): Promise<void> {
    const args = replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(replicaOf)];
    const fresh = await RedisNode.start({ dir: dirname(node.logFile), port: node.port, args });
    this.set.nodes[this.set.nodes.indexOf(node)] = fresh;
  }

  /** Waits until the sentinels agree on one master with its replica up; returns that master's port. */
  private async settle(): Promise<number> {
    let master = 0;
    await waitUntil(
      async () => {
        master = await this.set.masterPort();
        await this.set.waitUntilSettled(master, { timeoutMs: 5000 });
        return true;
      },
      { what: 'the Sentinel set to settle with a master and a replica', timeoutMs: 60_000, intervalMs: 500 },
    );
    return master;
  }

  /** Once the sentinels promoted `promoted`, starts the downed `node` again as its replica. */
  private async rejoin(node: RedisNode, promoted: number, at: number): Promise<{ promotedAfter: number; recoveredAt: number }> {
    await this.set.waitUntilSettled(promoted, { replicas: 0, timeoutMs: 60_000 });
    const promotedAfter = Date.now() - at;
    await this.startAgain(node, promoted);
    await this.set.waitUntilSettled(promoted, { timeoutMs: 60_000 });
    return { promotedAfter, recoveredAt: Date.now() };
  }

  /**
   * The master goes down (SIGTERM) for longer than the sentinels wait (1 s): they promote the
   * replica, and the node comes back empty as its replica. It is not started again before the
   * promotion: back as an empty master while the sentinels were still failing over, it took writes
   * beside the promoted one for 10 s until they demoted it (a split brain), and an agent got more
   * processes than its capacity.
   */
  async restart(): Promise<{ at: number; recoveredAt: number; detail: string }> {
    const master = await this.settle();
    const node = this.set.node(master);
    const promoted = this.other(master).port;
    const at = Date.now();
    await node.stop();
    await delay(outageMs);
    const { promotedAfter, recoveredAt } = await this.rejoin(node, promoted, at);
    return {
      at,
      recoveredAt,
      detail: `master 127.0.0.1:${master} down ${recoveredAt - at} ms, 127.0.0.1:${promoted} promoted after ${promotedAfter} ms, the node back empty as its replica`,
    };
  }

  /**
   * A failover, alternately `SENTINEL FAILOVER` (the master demoted in order) and a SIGKILL of the
   * master (the sentinels promote the replica; the killed node comes back as its replica), the
   * first of them drawn from the seed.
   */
  async failover(random: Random): Promise<{ at: number; recoveredAt: number; detail: string }> {
    const master = await this.settle();
    const promoted = this.other(master).port;
    this.failovers ??= random.int(0, 1);
    const kill = this.failovers % 2 === 1;
    this.failovers += 1;
    const at = Date.now();
    if (kill) {
      const node = this.set.node(master);
      node.kill();
      const { promotedAfter, recoveredAt } = await this.rejoin(node, promoted, at);
      return {
        at,
        recoveredAt,
        detail: `SIGKILL of master 127.0.0.1:${master}, 127.0.0.1:${promoted} promoted after ${promotedAfter} ms, the killed node its replica after ${recoveredAt - at} ms`,
      };
    }
    const sentinel = this.set.sentinels[0]!.connect();
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', MASTER_NAME);
    } finally {
      sentinel.disconnect();
    }
    await this.set.waitUntilSettled(promoted, { timeoutMs: 60_000 });
    const recoveredAt = Date.now();
    return { at, recoveredAt, detail: `SENTINEL FAILOVER 127.0.0.1:${master} -> 127.0.0.1:${promoted} in ${recoveredAt - at} ms` };
  }

  /** `FLUSHALL` on the current master: every lease, waiter and marker is gone at once. */
  async flush(): Promise<{ at: number; recoveredAt: number; detail: string }> {
    const master = await this.settle();
    const client = this.set.node(master).connect();
    try {
      const keys = await client.dbsize();
      const at = Date.now();
      await client.flushall();
      return { at, recoveredAt: at, detail: `FLUSHALL on master 127.0.0.1:${master} (${keys} keys)` };
    } finally {
      client.disconnect();
    }
  }

  /**
   * Polls the current master until every agent's leases are current again (rebuilt on its dataset): the time
   * from Redis's loss to Lifeline's rebuilt leases, per agent (undefined when not within `timeoutMs`).
   */
  async timeToRebuild(agents: string[], since: number, timeoutMs: number): Promise<Map<string, number | undefined>> {
    const rebuilt = new Map<string, number | undefined>(agents.map((a) => [a, undefined]));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...rebuilt.values()].some((v) => v === undefined)) {
      const client = await this.set
        .masterPort()
        .then((port) => this.set.node(port).connect())
        .catch(() => undefined);
      try {
        for (const agent of agents) {
          if (rebuilt.get(agent) !== undefined || !client) continue;
          const current = await client.eval(currentScript, 2, ...slotKeys(agent)).catch(() => 0);
          if (current === 1) rebuilt.set(agent, Date.now() - since);
        }
      } finally {
        client?.disconnect();
      }
      await delay(100);
    }
    return rebuilt;
  }

  async stop(): Promise<void> {
    await this.set.stop();
  }
}
