import { Connection } from '@temporalio/client';
import { explainConnectFailure, explainTlsProbe } from './connect-failure.js';
import { temporalConnectOptions, type TemporalConnectOptions } from './connection-options.js';
import { probeTls } from './tls-probe.js';
import type { TemporalConnectionSettings } from './connection-settings.js';

/**
 * Connects and proves the connection can use the namespace (a credential the server refuses, or a
 * namespace that does not exist, fails here in one line instead of at the first start or poll).
 */
export async function connectChecked<C extends { close(): Promise<void> }>(
  settings: TemporalConnectionSettings,
  connect: (options: TemporalConnectOptions) => Promise<C>,
  describeNamespace: (connection: C) => Promise<unknown>,
): Promise<C> {
  const options = temporalConnectOptions(settings);
  if (options.tls) {
    // A handshake of Node's own first: it names a TLS failure in milliseconds, where grpc-js would
    // wait for its connect deadline and then not say why (and the Rust core often says only that
    // the connection closed). Anything it cannot name is left to the transport's own error.
    const probe = await probeTls(options);
    const refusal = probe.ok ? undefined : explainTlsProbe(probe.code, settings, new Error(probe.code));
    if (refusal) throw refusal;
  }
  let connection: C;
  try {
    connection = await connect(options);
  } catch (err) {
    throw explainConnectFailure(err, settings);
  }
  try {
    await describeNamespace(connection);
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw explainConnectFailure(err, settings);
  }
  return connection;
}

/**
 * A client connection (starting, querying and listing workflows, schedules, visibility). A command
 * line gives up sooner than a worker (`connectTimeoutMs`, default 10 s), which may wait out a slow start.
 */
export function connectTemporalClient(settings: TemporalConnectionSettings, connectTimeoutMs = 10_000): Promise<Connection> {
  return connectChecked(
    settings,
    (options) => Connection.connect({ ...options, connectTimeout: connectTimeoutMs }),
    (c) => c.workflowService.describeNamespace({ namespace: settings.namespace }),
  );
}
