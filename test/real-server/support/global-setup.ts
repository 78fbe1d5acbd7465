import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../../src/db/migrate.js';
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
    running.push(postgres, redis);
    await Promise.all([postgres.start(), redis.start()]);
    await migrate(postgres.url, log);
    const target = postgresTargetFromUrl(postgres.url);
    const temporal = await startMtlsTemporalServer({
      dir: join(dir, 'temporal-mtls'),
      postgres: target,
      databasePrefix: 'mtls',
      log,
      binaries: await binaries,
      onUnexpectedExit,
    });
    running.push(temporal);
    const namespace = 'lifeline-real';
    await temporal.createNamespace(namespace);
    console.log(`real-server stack up in ${Date.now() - started} ms (logs in ${dir})`);

    project.provide('realServer', {
      address: temporal.address,
      namespace,
      clientEnv: temporal.clientEnv(namespace),
      certificates: temporal.certificates,
      temporalLogFile: temporal.logFile,
      databaseUrl: postgres.url,
      redisUrl: redis.url,
      postgres: target,
      binaries: await binaries,
      stackDir: dir,
    });
  } catch (err) {
    await stopAll();
    throw err;
  }

  return async () => {
    await stopAll();
    if (!process.env.LIFELINE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  };
}
