import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { localTimingOverrides } from '../../src/stack/temporal-dynamic-config.js';
import { connectTemporalClient } from '../../src/temporal-connection/connect.js';
import { loadTemporalSettings } from '../../src/temporal-connection/connection-settings.js';
import { registerSearchAttributes } from '../../src/temporal-prerequisites/register-search-attributes.js';
import { waitForSearchAttributes } from '../../src/temporal-prerequisites/search-attribute-usable.js';
import type { Logger } from '../../src/util/logger.js';
import { postgresTargetFromUrl } from '../real-temporal/postgres-schemas.js';
import { startMtlsTemporalServer, type MtlsTemporalServer } from '../real-temporal/real-temporal-server.js';
import { ensureTemporalServerBinaries } from '../real-temporal/server-binaries.js';

export interface ChaosRealTemporal {
  server: MtlsTemporalServer;
  namespace: string;
  /** The TEMPORAL_* settings workers and clients reach it with (mutual TLS). */
  clientEnv: Record<string, string>;
  connection: Connection;
}

/**
 * `--temporal server`: a real temporal-server on the run's own Postgres, its frontend requiring
 * mutual TLS, with a fresh namespace set up as `lifeline setup` does. Restarting it (a fault of the
 * run) restarts the frontend with the rest of the server, on the same ports and databases.
 */
export async function startChaosRealTemporal(dir: string, postgresUrl: string, log: Logger): Promise<ChaosRealTemporal> {
  const server = await startMtlsTemporalServer({
    dir: join(dir, 'temporal-server'),
    postgres: postgresTargetFromUrl(postgresUrl),
    databasePrefix: 'chaos',
    log,
    binaries: await ensureTemporalServerBinaries(log),
    dynamicConfigOverrides: localTimingOverrides,
  });
  try {
    const namespace = 'lifeline-chaos';
    await server.createNamespace(namespace);
    const clientEnv = server.clientEnv(namespace);
    const settings = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml', ...clientEnv });
    const connection = await connectTemporalClient(settings);
    await registerSearchAttributes(connection, namespace);
    await waitForSearchAttributes(connection, namespace);
    return { server, namespace, clientEnv, connection };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
