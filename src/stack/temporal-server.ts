import { Connection } from '@temporalio/client';
import { join } from 'node:path';
import getPort from 'get-port';
import { searchAttributeCliTypes } from '../domain/search-attributes.js';
import type { Logger } from '../util/logger.js';
import { waitUntil } from '../util/wait-until.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';

export interface TemporalDevServer {
  process: ServerProcess;
  address: string;
  namespace: string;
  uiUrl: string;
  metricsUrl: string;
}

export interface TemporalDevServerOptions {
  cli: string;
  dir: string;
  namespace: string;
  /** Keep workflow history across restarts in this SQLite file; in memory when absent. */
  dbFile?: string;
  uiPort?: number;
  log: Logger;
  onUnexpectedExit?: (message: string) => void;
  startTimeoutMs?: number;
}

/** Starts `temporal server start-dev` on free loopback ports with Lifeline's search attributes registered. */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const port = await getPort({ host: '127.0.0.1' });
  // The preferred UI port when it is free (so bookmarks keep working), any free port otherwise.
  const uiPort = await getPort({ host: '127.0.0.1', port: opts.uiPort });
  const httpPort = await getPort({ host: '127.0.0.1' });
  const metricsPort = await getPort({ host: '127.0.0.1' });
  const logFile = join(opts.dir, 'temporal.log');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    ...Object.entries(searchAttributeCliTypes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    // One partition per task queue: with several, a task can land in a partition no poller is
    // waiting on and wait to be forwarded, hundreds of milliseconds on a single local server.
    // Two workflow task failures in a row mark the workflow with TemporalReportedProblems: how the
    // reconciler finds executions that cannot make progress (src/reconciler/stuck-executions.ts).
    ...[
      'matching.numTaskqueueReadPartitions=1',
      'matching.numTaskqueueWritePartitions=1',
      'system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2',
      // A build of a Worker Deployment reports drained this soon after its last pinned execution closed (3 minutes by default).
      'matching.wv.VersionDrainageStatusVisibilityGracePeriod="10s"',
      'matching.wv.VersionDrainageStatusRefreshInterval="5s"',
      // An idle worker polls again every 10 s (60 s by default), so a build whose workers are gone
      // shows sooner: LIFELINE_WORKER_GONE_SECONDS may go down to 20 against this server.
      'matching.longPollExpirationInterval="10s"',
    ].flatMap((v) => ['--dynamic-config-value', v]),
  ];
  const proc = startServerProcess({
    name: 'Temporal dev server',
    command: opts.cli,
    args,
    stopSignal: 'SIGTERM',
    logFile,
    onUnexpectedExit: opts.onUnexpectedExit,
  });
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  try {
    await waitUntil(
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: opts.namespace });
          return true;
        } finally {
          await connection.close();
        }
      },
      {
        what: `the Temporal dev server on ${address} to serve namespace ${opts.namespace}`,
        timeoutMs: opts.startTimeoutMs ?? 60_000,
        intervalMs: 250,
        abortReason: proc.exitReason,
        hint: () => `Temporal log ${logFile}:\n${logTail(logFile)}`,
      },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  opts.log.info({ address, uiUrl, logFile }, 'Temporal dev server is up');
  return { process: proc, address, namespace: opts.namespace, uiUrl, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}
