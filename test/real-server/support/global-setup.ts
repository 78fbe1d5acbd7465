import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../../src/db/migrate.js';
import { localTimingOverrides } from '../../../src/stack/temporal-dynamic-config.js';
import { connectTemporalClient } from '../../../src/temporal-connection/connect.js';
import { loadTemporalSettings } from '../../../src/temporal-connection/connection-settings.js';
import { registerSearchAttributes } from '../../../src/temporal-prerequisites/register-search-attributes.js';
import { waitForSearchAttributes } from '../../../src/temporal-prerequisites/search-attribute-usable.js';
import { writeWorkflowBundle } from '../../../src/temporal/workflow-bundle.js';
import { PostgresServer } from '../../../src/stack/postgres-server.js';
import { RedisServer } from '../../../src/stack/redis-server.js';
import { createLogger } from '../../../src/util/logger.js';
import type { TestCertificates } from '../../../tools/real-temporal/certificates.js';
import { postgresTargetFromUrl, type PostgresTarget } from '../../../tools/real-temporal/postgres-schemas.js';
import { startMtlsTemporalServer } from '../../../tools/real-temporal/real-temporal-server.js';
import { ensureTemporalServerBinaries, type TemporalServerBinaries } from '../../../tools/real-temporal/server-binaries.js';

/** What a `real-server` test gets through `inject('realServer')`. */
export interface RealServerContext {
  /** The mTLS server's frontend, `127.0.0.1:PORT`. */
  address: string;
  namespace: string;
  /** The `TEMPORAL_*` variables that reach `namespace` over mTLS. */
  clientEnv: Record<string, string>;
  /** The certificates the server uses, and the bad ones for negative tests. */
  certificates: TestCertificates;
  temporalLogFile: string;
  /** Lifeline's own database, migrated. */
  databaseUrl: string;
  redisUrl: string;
  /** The Postgres the server's databases are on, for a test that starts another server beside it. */
  postgres: PostgresTarget;
  binaries: TemporalServerBinaries;
  /** The temp dir everything lives in; a test's own servers go in subdirectories. */
  stackDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    realServer: RealServerContext;
  }
}

/** As `lifeline setup` does: Lifeline's search attributes on the namespace, usable before any test starts. */
async function registerAndWait(clientEnv: Record<string, string>): Promise<void> {
  const settings = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml', ...clientEnv });
  const connection = await connectTemporalClient(settings);
  try {
    await registerSearchAttributes(connection, settings.namespace);
    await waitForSearchAttributes(connection, settings.namespace);
  } finally {
    await connection.close();
  }
}

/**
 * Starts, once for the project, a private Postgres and Redis and a real Temporal server with mTLS
 * on them, with a fresh namespace. The API-key server is not started here: few tests need it, and
 * each that does starts its own with startApiKeyTemporalServer on this Postgres (its own database
 * prefix), so its keys and restarts concern that test alone.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('real-server-stack', process.env.LIFELINE_LOG_LEVEL ?? 'warn');
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-real-server-'));
  const onUnexpectedExit = (message: string) => log.error(message);
  const started = Date.now();
  const running: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const server of running.splice(0).reverse()) await server.stop().catch((err: unknown) => log.error({ err }, 'stopping'));
  };
  try {
    // The first run on a machine builds the server (minutes): meanwhile Postgres and Redis start.
    const binaries = ensureTemporalServerBinaries(log);
    binaries.catch(() => undefined);
    const [postgres, redis] = await Promise.all([
      PostgresServer.create({ dir: join(dir, 'postgres'), database: 'lifeline', log, unsafeFast: true, onUnexpectedExit }),
      RedisServer.create({ dir: join(dir, 'redis'), log, onUnexpectedExit }),
    ]);
    running.push({ stop: () => postgres.stop().then(() => postgres.removeData()) }, redis);
    await Promise.all([postgres.start(), redis.start()]);
    await migrate(postgres.url, log);
    const target = postgresTargetFromUrl(postgres.url);
    const temporal = await startMtlsTemporalServer({
      dir: join(dir, 'temporal-mtls'),
      postgres: target,
      databasePrefix: 'mtls',
      log,
      binaries: await binaries,
      // The deployed settings with the local timing the dev server has, so shared test files hold on both.
      dynamicConfigOverrides: localTimingOverrides,
      onUnexpectedExit,
    });
    running.push(temporal);
    const namespace = 'lifeline-real';
    await temporal.createNamespace(namespace);
    const clientEnv = temporal.clientEnv(namespace);
    await registerAndWait(clientEnv);
    const workflowBundlePath = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
    console.log(`real-server stack up in ${Date.now() - started} ms (logs in ${dir})`);

    project.provide('realServer', {
      address: temporal.address,
      namespace,
      clientEnv,
      certificates: temporal.certificates,
      temporalLogFile: temporal.logFile,
      databaseUrl: postgres.url,
      redisUrl: redis.url,
      postgres: target,
      binaries: await binaries,
      stackDir: dir,
    });
    // What the shared test files (test/*.test.ts) read, so that some of them run here unchanged over mutual TLS.
    project.provide('temporalAddress', temporal.address);
    project.provide('temporalEnv', clientEnv);
    project.provide('namespace', namespace);
    project.provide('temporalUiUrl', '');
    project.provide('databaseUrl', postgres.url);
    project.provide('redisUrl', redis.url);
    project.provide('workflowBundlePath', workflowBundlePath);
    project.provide('stackDir', dir);
  } catch (err) {
    await stopAll();
    throw err;
  }

  return async () => {
    await stopAll();
    if (!process.env.LIFELINE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  };
}
