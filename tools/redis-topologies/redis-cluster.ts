import { join } from 'node:path';
import getPort, { portNumbers } from 'get-port';
import { runCommand } from '../../src/stack/run-command.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { RedisNode, type RedisNodeTls } from './redis-node.js';

/**
 * A port whose cluster bus port (10000 higher) is free too, both below the kernel's ephemeral
 * range (32768 up), where an outgoing connection could take the bus port before the node binds it.
 */
async function clusterPort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = await getPort({ host: '127.0.0.1', port: portNumbers(12000, 22000) });
    if (port <= 22000 && (await getPort({ host: '127.0.0.1', port: port + 10000 })) === port + 10000) return port;
    if (tries > 100) throw new Error('no free port pair (port, port + 10000) for a cluster node');
  }
}

/** A Redis Cluster of `masters` masters without replicas on loopback, its 16384 hash slots split between them. */
export class RedisClusterSet {
  private constructor(
    readonly nodes: RedisNode[],
    private readonly tls: boolean,
  ) {}

  static async start(dir: string, { masters = 3, tls }: { masters?: number; tls?: RedisNodeTls } = {}): Promise<RedisClusterSet> {
    const started = await Promise.allSettled(
      Array.from({ length: masters }, async (_, i) =>
        RedisNode.start({
          dir: join(dir, `cluster-${i}`),
          port: await clusterPort(),
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
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw failed.reason;
    }
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
