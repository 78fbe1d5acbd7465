import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { Redis, type RedisOptions } from 'ioredis';
import { logTail, startServerProcess, type ServerProcess } from '../../src/stack/server-process.js';
import { waitUntil } from '../../src/util/wait-until.js';

export interface RedisNodeTls {
  cert: string;
  key: string;
  ca: string;
  /** The certificate a node shows its peers: a cluster bus always asks for one (a clientAuth certificate). */
  client?: { cert: string; key: string };
}

export interface RedisNodeOptions {
  /** This node's own directory (its log, its cluster or sentinel config). */
  dir: string;
  /** redis-server arguments after the port and the loopback settings: `--replicaof`, `--cluster-enabled yes`... */
  args?: string[];
  /** A config file to start from (a sentinel's: it must be writable, the sentinel rewrites it). */
  configFile?: string;
  /** `--sentinel`: the node is a sentinel. */
  sentinel?: boolean;
  /** TLS only on this port: the node listens with these files and no plain port, and speaks TLS to its peers. */
  tls?: RedisNodeTls;
  port?: number;
}

/** One redis-server (or sentinel) on a free loopback port, without persistence, for topology tests. */
export class RedisNode {
  private proc: ServerProcess | undefined;

  private constructor(
    private readonly opts: RedisNodeOptions,
    readonly port: number,
  ) {}

  static async start(opts: RedisNodeOptions): Promise<RedisNode> {
    mkdirSync(opts.dir, { recursive: true });
    const node = new RedisNode(opts, opts.port ?? (await getPort({ host: '127.0.0.1' })));
    await node.start();
    return node;
  }

  get logFile(): string {
    return join(this.opts.dir, 'redis.log');
  }

  /** Options for a client that reaches this node directly. */
  clientOptions(): RedisOptions {
    const tls = this.opts.tls ? { tls: { ca: readFileSync(this.opts.tls.ca) } } : {};
    return { host: '127.0.0.1', port: this.port, ...tls };
  }

  /** A client straight to this node, failing at once when it is down. */
  connect(extra: RedisOptions = {}): Redis {
    const client = new Redis({ ...this.clientOptions(), maxRetriesPerRequest: 0, retryStrategy: () => null, ...extra });
    client.on('error', () => undefined);
    return client;
  }

  async start(): Promise<void> {
    const { tls } = this.opts;
    const ports = tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key]
      : ['--port', String(this.port)];
    const tlsArgs = tls
      ? [
          '--tls-ca-cert-file',
          tls.ca,
          '--tls-auth-clients',
          'no',
          '--tls-replication',
          'yes',
          ...(this.opts.args?.includes('--cluster-enabled') ? ['--tls-cluster', 'yes'] : []),
          ...(tls.client ? ['--tls-client-cert-file', tls.client.cert, '--tls-client-key-file', tls.client.key] : []),
        ]
      : [];
    this.proc = startServerProcess({
      name: `Redis ${this.opts.sentinel ? 'sentinel' : 'node'} ${this.port}`,
      command: 'redis-server',
      args: [
        ...(this.opts.configFile ? [this.opts.configFile] : []),
        ...ports,
        ...tlsArgs,
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'no',
        '--dir',
        this.opts.dir,
        ...(this.opts.sentinel ? ['--sentinel'] : ['--save', '', '--appendonly', 'no']),
        ...(this.opts.args ?? []),
      ],
      stopSignal: 'SIGTERM',
      logFile: this.logFile,
    });
    const proc = this.proc;
    await waitUntil(
      async () => {
        const client = this.connect({ lazyConnect: true });
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } finally {
          client.disconnect();
        }
      },
      {
        what: `redis-server on 127.0.0.1:${this.port} to answer PING`,
        timeoutMs: 30_000,
        abortReason: proc.exitReason,
        hint: () => `log ${this.logFile}:\n${logTail(this.logFile)}`,
      },
    );
  }

  /** A crash: SIGKILL to the server and its supervisor, no shutdown, no goodbye to its peers. */
  kill(): void {
    if (!this.proc) return;
    try {
      process.kill(-this.proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.proc = undefined;
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5_000);
    this.proc = undefined;
  }
}
