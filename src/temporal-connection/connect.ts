import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { explainConnectFailure, explainTlsProbe } from './connect-failure.js';
import { temporalConnectOptions, type TemporalConnectOptions } from './connection-options.js';
import { probeTls } from './tls-probe.js';
import type { TemporalConnectionSettings } from './connection-settings.js';

/**
 * Connects and proves the connection can use the namespace (a credential the server refuses, or a
 * namespace that does not exist, fails here in one line instead of at the first start or poll).
 */
async function connectChecked<C extends { close(): Promise<void> }>(
  settings: TemporalConnectionSettings,
  connect: (options: TemporalConnectOptions) => Promise<C>,
  describeNamespace: (connection: C) => Promise<unknown>,
): Promise<C> {
  const options = temporalConnectOptions(settings);
  // With TLS, a handshake of Node's own runs beside the connection: it names a TLS failure at
  // once, where grpc-js would wait for its connect deadline and then not say why.
  const probe = options.tls ? probeTls(options) : undefined;
  const connecting = connect(options);
  const refusedByTls = probe?.then((p) => (p.ok ? undefined : explainTlsProbe(p.code, settings, new Error(p.code))));
  const first = await Promise.race([
    connecting.then(
      (connection) => ({ connection }),
      (err: unknown) => ({ err }),
    ),
    ...(refusedByTls ? [refusedByTls.then((refusal) => (refusal ? { refusal } : new Promise<never>(() => undefined)))] : []),
  ]);
  if ('refusal' in first) {
    void connecting.then((c) => c.close()).catch(() => undefined);
    throw first.refusal;
  }
  if ('err' in first) throw (await refusedByTls) ?? explainConnectFailure(first.err, settings);
  const { connection } = first;
  try {
    await describeNamespace(connection);
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw explainConnectFailure(err, settings);
  }
  return connection;
}

/** A client connection (starting, querying and listing workflows, schedules, visibility). */
export function connectTemporalClient(settings: TemporalConnectionSettings): Promise<Connection> {
  return connectChecked(
    settings,
    (options) => Connection.connect({ ...options, connectTimeout: 10_000 }),
    (c) => c.workflowService.describeNamespace({ namespace: settings.namespace }),
  );
}

/** A worker connection (the Rust core's), with the same settings. */
export function connectTemporalWorker(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  return connectChecked(
    settings,
    (options) => NativeConnection.connect(options),
    (c) => c.workflowService.describeNamespace({ namespace: settings.namespace }),
  );
}
