import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import type { Logger } from '../util/logger.js';
import { redactedAddress } from '../config/server-address.js';
import { waitUntil } from '../util/wait-until.js';
import { ensureDebianPackages } from './debian-packages.js';
import { findPostgresBinDir } from './find-executable.js';
import { runCommand } from './run-command.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';
import { postgresDataDir, removePostgresData } from './postgres-data-dir.js';
import { privateDir } from './private-dir.js';
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

/**
 * A private PostgreSQL server (Debian's binaries) on a free loopback port; restartable on the same port.
 * Private to its user too: loopback is every local user's, so it asks for a password of its own
 * (kept in a 0600 file in `dir`, which is 0700), over TCP only.
 */
export class PostgresServer {
  private proc: ServerProcess | undefined;
  private password = '';

  private constructor(
    private readonly opts: PostgresServerOptions,
    private readonly binDir: string,
    readonly port: number,
    /** The cluster's files (postgres-data-dir.ts says where). */
    readonly dataDir: string,
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
    privateDir(opts.dir);
    const dataDir = postgresDataDir(opts.dir, opts.log);
    const server = new PostgresServer(opts, binDir, await getPort({ host: '127.0.0.1' }), dataDir);
    await server.initDataDir();
    return server;
  }

  /** With the password: keep it out of logs (server-address.ts redactedAddress). */
  get url(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${this.opts.database}`;
  }

  get logFile(): string {
    return join(this.opts.dir, 'postgres.log');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  private get passwordFile(): string {
    return join(this.opts.dir, 'password');
  }

  private async initDataDir(): Promise<void> {
    const fresh = !existsSync(join(this.dataDir, 'PG_VERSION'));
    if (fresh) {
      await runCommand(
        ...asServiceUser(join(this.binDir, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--encoding=UTF8', '--no-sync']),
      );
    }
    const kept = existsSync(this.passwordFile) ? readFileSync(this.passwordFile, 'utf8').trim() : '';
    this.password = kept || randomBytes(18).toString('base64url');
    // A cluster made before it had a password (or made anew) gets it before it ever listens.
    if (fresh || !kept) await this.setPassword();
    writeFileSync(this.passwordFile, this.password, { mode: 0o600 });
    // Written at every start, so a cluster made with initdb's trust rules is closed too.
    const hba = join(this.dataDir, 'pg_hba.conf');
    writeFileSync(
      hba,
      '# Written by Lifeline at each start: loopback TCP only, with the password.\nhost all all 127.0.0.1/32 scram-sha-256\n',
      {
        mode: 0o600,
      },
    );
    const user = serviceUser();
    if (user) chownSync(hba, user.uid, user.gid);
  }

  /** Single-user mode listens nowhere, and the password goes in on standard input, never on a command line. */
  private async setPassword(): Promise<void> {
    const [command, args] = asServiceUser(join(this.binDir, 'postgres'), [
      '--single',
      '-D',
      this.dataDir,
      '-c',
      'log_min_error_statement=panic',
      'postgres',
    ]);
    await runCommand(command, args, { input: `ALTER ROLE postgres PASSWORD '${this.password}';\n` });
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
    this.opts.log.info({ address: redactedAddress(this.url), logFile: this.logFile }, 'Postgres is up');
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
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', password: this.password, database: 'postgres' });
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

  /** Deletes the cluster of a stopped throwaway server. */
  removeData(): void {
    removePostgresData(this.dataDir);
  }
}
