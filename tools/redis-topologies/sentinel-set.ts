import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { waitUntil } from '../../src/util/wait-until.js';
import { RedisNode, type RedisNodeTls } from './redis-node.js';

export const MASTER_NAME = 'lifeline';

/**
 * One master, one replica and three sentinels (quorum 2) on loopback: the smallest Sentinel
 * deployment that fails over. Sentinels call a master down after 1 s without an answer.
 */
export class SentinelSet {
  private constructor(
    readonly nodes: RedisNode[],
    readonly sentinels: RedisNode[],
    private readonly tls: boolean,
  ) {}

  static async start(dir: string, tls?: RedisNodeTls): Promise<SentinelSet> {
    const master = await RedisNode.start({ dir: join(dir, 'node-0'), tls });
    const replica = await RedisNode.start({ dir: join(dir, 'node-1'), tls, args: ['--replicaof', '127.0.0.1', String(master.port)] });
    const sentinels = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const sdir = join(dir, `sentinel-${i}`);
        const port = await getPort({ host: '127.0.0.1' });
        const configFile = join(dir, `sentinel-${i}.conf`);
        writeFileSync(
          configFile,
          [
            `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
            `sentinel failover-timeout ${MASTER_NAME} 10000`,
            `sentinel parallel-syncs ${MASTER_NAME} 1`,
            '',
          ].join('\n'),
        );
        return RedisNode.start({ dir: sdir, port, configFile, sentinel: true, tls });
      }),
    );
    const set = new SentinelSet([master, replica], sentinels, tls !== undefined);
    await set.waitUntilSettled(master.port);
    return set;
  }

  /** `redis+sentinel://` for Lifeline's REDIS_URL. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}+sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}`;
  }

  node(port: number): RedisNode {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on port ${port}`);
    return node;
  }

  /** The master's port, as the first sentinel that answers says. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels) {
      const client = s.connect();
      try {
        const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string] | null;
        if (addr) return Number(addr[1]);
      } catch {
        // the next sentinel
      } finally {
        client.disconnect();
      }
    }
    throw new Error('no sentinel knows the master');
  }

  /**
   * Every sentinel names `masterPort` as the master, knows the other two sentinels and a replica
   * that is up (optionally: none but `replicaPort`), so a failover can happen now.
   */
  async waitUntilSettled(masterPort: number, { replicas = 1, timeoutMs = 30_000 } = {}): Promise<void> {
    await waitUntil(
      async () => {
        for (const s of this.sentinels) {
          const client = s.connect();
          try {
            const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string];
            if (Number(addr[1]) !== masterPort) return false;
            const peers = (await client.call('SENTINEL', 'sentinels', MASTER_NAME)) as unknown[];
            const known = (await client.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
            const up = known.filter((r) => {
              const flags = r[r.indexOf('flags') + 1] ?? '';
              return !flags.includes('down') && !flags.includes('disconnected');
            });
            if (peers.length < 2 || up.length < replicas) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      { what: `the sentinels to agree on master 127.0.0.1:${masterPort} with ${replicas} replica(s)`, timeoutMs, intervalMs: 200 },
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.nodes].map((n) => n.stop()));
  }
}
