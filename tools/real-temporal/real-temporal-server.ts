import { Connection } from '@temporalio/client';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { logTail, startServerProcess, type ServerProcess } from '../../src/stack/server-process.js';
import type { Logger } from '../../src/util/logger.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { createTestCertificates, type TestCertificates } from './certificates.js';
import { connectOptions, temporalClientEnv, type TemporalConnectOptions } from './client-access.js';
import { writeDynamicConfig } from './dynamic-config.js';
import { serveJwks, type JwksServer } from './jwks-server.js';
import { createJwtIssuer, type ApiKeyOptions, type JwtIssuer } from './jwt-issuer.js';
import { createNamespace, type CreateNamespaceOptions } from './namespaces.js';
import { createTemporalDatabases, type PostgresTarget, type TemporalDatabases } from './postgres-schemas.js';
import { ensureTemporalServerBinaries, type TemporalServerBinaries } from './server-binaries.js';
import { writeServerConfig, type RealServerMode } from './server-config.js';
import { allocateServerPorts, type TemporalService } from './server-ports.js';

export interface RealTemporalServerOptions {
  /** Config, certificates (unless given) and the log go here. */
  dir: string;
  /** A running Postgres whose user may create databases (`postgresTargetFromUrl(postgresServer.url)`). */
  postgres: PostgresTarget;
  /** The server's databases are `<prefix>_temporal` and `<prefix>_visibility`; they must not exist yet. */
  databasePrefix: string;
  log: Logger;
  /** Certificates to use; a fresh set in `dir/certs` when absent. */
  certificates?: TestCertificates;
  binaries?: TemporalServerBinaries;
  /** The server's own log level in `dir/temporal.log`: warn when absent. */
  logLevel?: string;
  /** Values on top of Compose's dynamic config, for a test that studies one setting. */
  dynamicConfigOverrides?: Record<string, unknown>;
  numHistoryShards?: number;
  /** How long one start may take before it fails with the log's tail: 120 s when absent. */
  startTimeoutMs?: number;
  onUnexpectedExit?: (message: string) => void;
}

export interface RealTemporalServer {
  readonly mode: RealServerMode;
  /** `127.0.0.1:PORT`, the frontend. */
  readonly address: string;
  readonly dir: string;
  readonly logFile: string;
  readonly certificates: TestCertificates;
  readonly databases: TemporalDatabases;
  /** The running process (a new one after each restart). */
  readonly process: ServerProcess;
  /** Options for `Connection.connect` / `NativeConnection.connect` with full rights. */
  adminConnectOptions(): TemporalConnectOptions;
  /** The `TEMPORAL_*` variables a Lifeline process sets to work in `namespace` on this server (api-key mode: a `<namespace>:admin` key valid for a day). */
  clientEnv(namespace: string): Record<string, string>;
  createNamespace(namespace: string, options?: CreateNamespaceOptions): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (10 s when absent). Ends the server for good. */
  stop(graceMs?: number): Promise<void>;
  /** Stops the process and starts it again on the same ports and databases (what a deploy or a crash does to a frontend). */
  restart(graceMs?: number): Promise<void>;
}

export interface MtlsTemporalServer extends RealTemporalServer {
  readonly mode: 'mtls';
}

export interface ApiKeyTemporalServer extends RealTemporalServer {
  readonly mode: 'api-key';
  readonly jwksUrl: string;
  /** The `kid` of the signing key the server trusts. */
  readonly keyId: string;
  /** An API key the server accepts, for the permissions given (see ApiKeyOptions). */
  mintApiKey(options: ApiKeyOptions): string;
}

/**
 * A real `temporal-server` (not the dev server) on loopback whose frontend requires client
 * certificates; no authorizer, so any accepted certificate may do anything.
 */
export async function startMtlsTemporalServer(options: RealTemporalServerOptions): Promise<MtlsTemporalServer> {
  return (await startRealTemporalServer('mtls', options)) as MtlsTemporalServer;
}

/**
 * A real `temporal-server` on loopback that checks API keys: TLS with a server certificate only,
 * the default authorizer and claim mapper, and keys signed by an issuer whose JWKS this process
 * serves. One call on an existing Postgres, beside an mtls server, with its own database prefix.
 */
export async function startApiKeyTemporalServer(options: RealTemporalServerOptions): Promise<ApiKeyTemporalServer> {
  const issuer = createJwtIssuer();
  const jwks = await serveJwks([issuer.publicJwk]);
  try {
    const server = await startRealTemporalServer('api-key', options, { issuer, jwks });
    // Assign, not spread: a spread would freeze the `process` getter at the first process.
    return Object.assign(server, {
      mode: 'api-key' as const,
      jwksUrl: jwks.url,
      keyId: issuer.kid,
      mintApiKey: (o: ApiKeyOptions) => issuer.mint(o),
    });
  } catch (err) {
    await jwks.close();
    throw err;
  }
}

interface Keys {
  issuer: JwtIssuer;
  jwks: JwksServer;
}

// Without an authorizer the system worker reaches the frontend with the mtls client certificate;
// with one it needs internal-frontend, which skips authorization (Trap 3 in TEMPORAL-NOTES).
const servicesFor = (mode: RealServerMode): TemporalService[] =>
  mode === 'mtls' ? ['frontend', 'history', 'matching', 'worker'] : ['frontend', 'internal-frontend', 'history', 'matching', 'worker'];

async function startRealTemporalServer(mode: RealServerMode, options: RealTemporalServerOptions, keys?: Keys): Promise<RealTemporalServer> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const [binaries, certificates] = await Promise.all([
    options.binaries ?? ensureTemporalServerBinaries(options.log),
    options.certificates ?? createTestCertificates(join(dir, 'certs')),
  ]);
  const databases = await createTemporalDatabases(binaries.sql, options.postgres, options.databasePrefix);
  const services = servicesFor(mode);
  const ports = await allocateServerPorts(services);
  const dynamicConfigFile = join(dir, 'config', 'dynamic-config.yaml');
  writeServerConfig({
    root: dir,
    mode,
    ports,
    postgres: options.postgres,
    databases,
    certificates,
    jwksUrl: keys?.jwks.url,
    dynamicConfigFile,
    logLevel: options.logLevel ?? 'warn',
    numHistoryShards: options.numHistoryShards ?? 4,
  });
  writeDynamicConfig(dynamicConfigFile, options.dynamicConfigOverrides);

  const address = `127.0.0.1:${ports.frontend!.grpc}`;
  const logFile = join(dir, 'temporal.log');
  const admin = (): TemporalConnectOptions =>
    connectOptions(mode, address, certificates, keys?.issuer.mint({ permissions: ['temporal-system:admin'], expiresInSeconds: 3600 }));

  const launch = async (): Promise<ServerProcess> => {
    const started = Date.now();
    const proc = startServerProcess({
      name: `Temporal server (${mode})`,
      command: binaries.server,
      args: [
        '--root',
        dir,
        '--config',
        'config',
        '--env',
        'development',
        // mtls mode has no authorizer on purpose (the certificate is the gate); the flag says so.
        ...(mode === 'mtls' ? ['--allow-no-auth'] : []),
        'start',
        ...services.flatMap((s) => ['--service', s]),
      ],
      stopSignal: 'SIGTERM',
      logFile,
      onUnexpectedExit: options.onUnexpectedExit,
    });
    try {
      await waitUntilServing(admin, options.startTimeoutMs ?? 120_000, proc, logFile);
    } catch (err) {
      await proc.stop(5_000);
      throw err;
    }
    options.log.info({ address, mode, logFile, ms: Date.now() - started }, 'Temporal server is up');
    return proc;
  };

  let proc = await launch();
  let stopped = false;
  return {
    mode,
    address,
    dir,
    logFile,
    certificates,
    databases,
    get process() {
      return proc;
    },
    adminConnectOptions: admin,
    clientEnv: (namespace) =>
      temporalClientEnv(
        mode,
        address,
        namespace,
        certificates,
        keys?.issuer.mint({ permissions: [`${namespace}:admin`], expiresInSeconds: 86_400 }),
      ),
    createNamespace: (namespace, o) => createNamespace(admin(), namespace, o),
    async stop(graceMs = 10_000) {
      stopped = true;
      await proc.stop(graceMs);
      await keys?.jwks.close();
    },
    async restart(graceMs = 10_000) {
      if (stopped) throw new Error(`the Temporal server on ${address} was stopped for good`);
      await proc.stop(graceMs);
      proc = await launch();
    },
  };
}

/**
 * Ready means: the frontend answers over TLS with the right credentials, and reads the system
 * namespace from the database (getSystemInfo alone answers before persistence is up).
 */
async function waitUntilServing(admin: () => TemporalConnectOptions, timeoutMs: number, proc: ServerProcess, logFile: string) {
  const options = admin();
  await waitUntil(
    async () => {
      const connection = await Connection.connect({ ...options, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        return true;
      } finally {
        await connection.close();
      }
    },
    {
      what: `the Temporal server on ${options.address} to answer over TLS`,
      timeoutMs,
      intervalMs: 500,
      abortReason: proc.exitReason,
      hint: () => `Temporal server log ${logFile}:\n${logTail(logFile, 30)}`,
    },
  );
}
