import { Connection } from '@temporalio/client';
import { join } from 'node:path';
import getPort from 'get-port';
import { searchAttributeCliTypes } from '../domain/search-attributes.js';
import { localDynamicConfig } from './temporal-dynamic-config.js';
import type { Logger } from '../util/logger.js';
import { waitUntil } from '../util/wait-until.js';
import { logTail, startServerProcess, type ServerProcess } from './server-process.js';

export interface TemporalDevServer {
  /** The running server process (a new one after each restart). */
  readonly process: ServerProcess;
  address: string;
  namespace: string;
  uiUrl: string;
  metricsUrl: string;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same ports and state file (only with `dbFile`). */
  restart(): Promise<void>;
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

interface Ports {
  port: number;
  uiPort: number;
  httpPort: number;
  metricsPort: number;
}

/** Starts `temporal server start-dev` on free loopback ports with Lifeline's search attributes registered. */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ports: Ports = {
    port: await getPort({ host: '127.0.0.1' }),
    // The preferred UI port when it is free (so bookmarks keep working), any free port otherwise.
    uiPort: await getPort({ host: '127.0.0.1', port: opts.uiPort }),
    httpPort: await getPort({ host: '127.0.0.1' }),
    metricsPort: await getPort({ host: '127.0.0.1' }),
  };
  const address = `127.0.0.1:${ports.port}`;
  let proc = await launch(opts, ports);
  return {
    get process() {
      return proc;
    },
    address,
    namespace: opts.namespace,
    uiUrl: `http://127.0.0.1:${ports.uiPort}`,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}/metrics`,
    stop: () => proc.stop(),
    async restart() {
      if (!opts.dbFile) throw new Error('a Temporal dev server without a state file (dbFile) would lose everything on restart');
      await proc.stop();
      proc = await launch(opts, ports);
    },
  };
}

/** One run of the server process, ready once it serves the namespace. */
async function launch(opts: TemporalDevServerOptions, { port, uiPort, httpPort, metricsPort }: Ports): Promise<ServerProcess> {
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
    // Deployed settings and local timing (temporal-dynamic-config.ts), as the flag wants them: KEY=JSON.
    ...Object.entries(localDynamicConfig()).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
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
  opts.log.info({ address, uiUrl: `http://127.0.0.1:${uiPort}`, logFile }, 'Temporal dev server is up');
  return proc;
}
