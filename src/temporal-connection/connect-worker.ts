import { NativeConnection } from '@temporalio/worker';
import { connectChecked } from './connect.js';
import type { TemporalConnectionSettings } from './connection-settings.js';

/**
 * A worker connection (the Rust core's), with the client's settings and checks. Apart from
 * connect.ts so that a client never loads the worker's native code.
 */
export function connectTemporalWorker(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  return connectChecked(
    settings,
    (options) => NativeConnection.connect(options),
    (c) => c.workflowService.describeNamespace({ namespace: settings.namespace }),
  );
}
