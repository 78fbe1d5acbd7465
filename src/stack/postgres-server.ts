import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import type { Logger } from '../util/logger.js';
import { waitUntil } from '../util/wait-until.js';
import { ensureDebianPackages } from './debian-packages.js';
import { findPostgresBinDir } from './find-executable.js';
import { runCommand } from './run-command.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';
import { asServiceUser, serviceUser } from './service-user.js';

export interface PostgresServerOptions {
  dir: string;
  database: string;
  log: Logger;
  /** Trade durability for speed: for throwaway test data only. */
  unsafeFast?: boolean;
  /** TLS (`ssl=on`) with this certificate and key (PEM files); plain connections stay allowed. */
  ssl?: { cert: string; key: string };
  onUnexpectedExit?: (message: string) => void;
}

/** A private PostgreSQL server (Debian's binaries) on a free loopback port; restartable on the same port. */
export class PostgresServer {
  private proc: ServerProcess | undefined;

  private constructor(
    private readonly opts: PostgresServerOptions,
    private readonly binDir: string,
    readonly port: number,
  ) {}

  static async create(opts: PostgresServerOptions): Promise<PostgresServer> {
    await ensureDebianPackages({
      what: 'PostgreSQL',
      packages: ['postgresql'],
      present: () => findPostgresBinDir() !== undefined,
      log: opts.log,
    });
    const binDir = findPostgresBinDir();
    if (!binDir) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin');
    const server = new PostgresServer(opts, binDir, await getPort({ host: '127.0.0.1' }));
    await server.initDataDir();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${this.opts.database}`;
  }

  get logFile(): string {
    return join(this.opts.dir, 'postgres.log');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private get dataDir(): string {
    return join(this.opts.dir, 'pgdata');
  }

  private async initDataDir(): Promise<void> {
    if (existsSync(join(this.dataDir, 'PG_VERSION'))) return;
    mkdirSync(this.dataDir, { recursive: true });
    // PostgreSQL refuses to run as root: the data belongs to the postgres user, who must reach it.
    const user = serviceUser();
    if (user) {
      allowTraversal(this.opts.dir, this.opts.log);
      chownSync(this.dataDir, user.uid, user.gid);
    }
    const [command, args] = asServiceUser(join(this.binDir, 'initdb'), [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-sync',
    ]);
    await runCommand(command, args);
  }

  async start(): Promise<void> {
    const settings = [
      'listen_addresses=127.0.0.1',
      'unix_socket_directories=',
      'max_connections=300',
      ...(this.opts.unsafeFast ? ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'] : []),
      ...(this.opts.ssl ? this.installSslFiles(this.opts.ssl) : []),
    ];
    const [command, args] = asServiceUser(join(this.binDir, 'postgres'), [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      ...settings.flatMap((s) => ['-c', s]),
    ]);
    // SIGINT is PostgreSQL's "fast shutdown"; SIGTERM would wait for every client to disconnect.
    this.proc = startServerProcess({
      name: 'Postgres',
      command,
      args,
      stopSignal: 'SIGINT',
      logFile: this.logFile,
      onUnexpectedExit: this.opts.onUnexpectedExit,
    });
    const proc = this.proc;
    await waitUntil(() => this.ensureDatabase(), {
      what: `Postgres on 127.0.0.1:${this.port} to accept connections`,
      timeoutMs: 60_000,
      intervalMs: 200,
      abortReason: proc.exitReason,
      hint: () => `Postgres log ${this.logFile}:\n${logTail(this.logFile)}`,
    });
    this.opts.log.info({ url: this.url, logFile: this.logFile }, 'Postgres is up');
  }

  /** PostgreSQL reads its key only when the server's user owns it, mode 0600: copies in the data dir are. */
  private installSslFiles(ssl: { cert: string; key: string }): string[] {
    const cert = join(this.dataDir, 'server-cert.pem');
    const key = join(this.dataDir, 'server-key.pem');
    copyFileSync(ssl.cert, cert);
    copyFileSync(ssl.key, key);
    chmodSync(key, 0o600);
    const user = serviceUser();
    if (user) for (const file of [cert, key]) chownSync(file, user.uid, user.gid);
    return ['ssl=on', `ssl_cert_file=${cert}`, `ssl_key_file=${key}`];
  }

  private async ensureDatabase(): Promise<boolean> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' });
    // A server going down under the probe fails its query; the client's own error event must not crash the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.opts.database]);
      if (!rowCount) await client.query(`CREATE DATABASE "${this.opts.database.replaceAll('"', '""')}"`);
      return true;
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }
}

/**
 * Grants search (x) permission to others on `dir` and its ancestors where it is missing (a temp
 * dir is 0700), so the postgres user can reach its data dir. Nothing becomes listable or readable.
 */
function allowTraversal(dir: string, log: Logger): void {
  for (let d = dir; ; d = dirname(d)) {
    const { mode } = statSync(d);
    if ((mode & 0o001) === 0) {
      chmodSync(d, (mode & 0o7777) | 0o001);
      log.debug({ dir: d }, 'granted search permission so the postgres user can reach its data');
    }
    if (dirname(d) === d) break;
  }
}
