import { join } from 'node:path';
import { runCommand } from '../../src/stack/run-command.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { RedisNode, type RedisNodeTls } from './redis-node.js';

/** A Redis Cluster of `masters` masters without replicas on loopback, its 16384 hash slots split between them. */
export class RedisClusterSet {
  private constructor(
    readonly nodes: RedisNode[],
    private readonly tls: boolean,
  ) {}

  static async start(dir: string, { masters = 3, tls }: { masters?: number; tls?: RedisNodeTls } = {}): Promise<RedisClusterSet> {
    const nodes = await Promise.all(
      Array.from({ length: masters }, (_, i) =>
        RedisNode.start({
          dir: join(dir, `cluster-${i}`),
          tls,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `cluster-${i}`, 'nodes.conf'),
            '--cluster-node-timeout',
            '5000',
          ],
        }),
      ),
    );
    const set = new RedisClusterSet(nodes, tls !== undefined);
    try {
      const cliTls = tls ? ['--tls', '--cacert', tls.ca] : [];
      // redis-cli waits for the nodes to meet without end: 30 s is plenty on loopback.
      await runCommand('timeout', [
        '30',
        'redis-cli',
        ...cliTls,
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-yes',
      ]);
      await waitUntil(
        async () => {
          for (const n of nodes) {
            const client = n.connect();
            try {
              const info = String(await client.call('CLUSTER', 'INFO'));
              if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`)) return false;
            } finally {
              client.disconnect();
            }
          }
          return true;
        },
        { what: 'every cluster node to report cluster_state:ok', timeoutMs: 30_000, intervalMs: 200 },
      );
    } catch (err) {
      await set.stop();
      throw err;
    }
    return set;
  }

  /** `redis+cluster://` for Lifeline's REDIS_URL. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
