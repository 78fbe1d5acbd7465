import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { redactedAddress } from '../config/server-address.js';
import { waitUntil } from '../util/wait-until.js';
import { ensureDebianPackages } from './debian-packages.js';
import { findOnPath, isExecutable } from './find-executable.js';
import { privateDir } from './private-dir.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';

function findRedisServer(): string | undefined {
  return findOnPath('redis-server') ?? (isExecutable('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
}

export interface RedisServerOptions {
  dir: string;
  log: Logger;
  onUnexpectedExit?: (message: string) => void;
}

/**
 * A private Redis server (Debian's redis-server) on a free loopback port, without persistence:
 * slots are leases that the reconciler can rebuild, so a restart that loses them is a case Lifeline handles.
 * Private to its user too: loopback is every local user's, so it asks for a password of its own,
 * given in a 0600 config file (a command line is readable by everyone in /proc).
 */
export class RedisServer {
  private proc: ServerProcess | undefined;
  private readonly password = randomBytes(18).toString('base64url');

  private constructor(
    private readonly opts: RedisServerOptions,
    private readonly binary: string,
    readonly port: number,
  ) {}

  static async create(opts: RedisServerOptions): Promise<RedisServer> {
    await ensureDebianPackages({
      what: 'Redis',
      packages: ['redis-server'],
      present: () => findRedisServer() !== undefined,
      log: opts.log,
    });
    const binary = findRedisServer();
    if (!binary) throw new Error('redis-server not found');
    privateDir(opts.dir);
    return new RedisServer(opts, binary, await getPort({ host: '127.0.0.1' }));
  }

  /** With the password: keep it out of logs (server-address.ts redactedAddress). */
  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  private get configFile(): string {
    return join(this.opts.dir, 'redis.conf');
  }

  get logFile(): string {
    return join(this.opts.dir, 'redis.log');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    writeFileSync(this.configFile, `requirepass ${this.password}\n`, { mode: 0o600 });
    this.proc = startServerProcess({
      name: 'Redis',
      command: this.binary,
      args: [
        this.configFile,
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.opts.dir,
      ],
      stopSignal: 'SIGTERM',
      logFile: this.logFile,
      onUnexpectedExit: this.opts.onUnexpectedExit,
    });
    const proc = this.proc;
    await waitUntil(
      async () => {
        const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } finally {
          client.disconnect();
        }
      },
      {
        what: `Redis on 127.0.0.1:${this.port} to answer PING`,
        timeoutMs: 30_000,
        intervalMs: 100,
        abortReason: proc.exitReason,
        hint: () => `Redis log ${this.logFile}:\n${logTail(this.logFile)}`,
      },
    );
    this.opts.log.info({ address: redactedAddress(this.url), logFile: this.logFile }, 'Redis is up');
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }
}
