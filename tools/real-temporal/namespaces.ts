import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { waitUntil } from '../../src/util/wait-until.js';
import type { TemporalConnectOptions } from './client-access.js';

/** gRPC ALREADY_EXISTS: the namespace was registered before (a rerun, or a restarted server). */
const ALREADY_EXISTS = 6;

export interface CreateNamespaceOptions {
  /** How long closed workflows are kept; one day when absent. */
  retentionDays?: number;
  timeoutMs?: number;
}

/**
 * Registers `namespace` with admin credentials and waits until it can be used: `describeNamespace`
 * reads it from the database, but visibility calls and workflow starts go through each frontend's
 * namespace registry, which may lag, so the wait ends only when a listing in it succeeds too.
 */
export async function createNamespace(
  admin: TemporalConnectOptions,
  namespace: string,
  options: CreateNamespaceOptions = {},
): Promise<void> {
  const { retentionDays = 1, timeoutMs = 60_000 } = options;
  const connection = await Connection.connect({ ...admin, connectTimeout: 10_000 });
  try {
    const service = connection.workflowService;
    await waitUntil(
      async () => {
        try {
          await service.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`) });
        } catch (err) {
          if (!(isGrpcServiceError(err) && err.code === ALREADY_EXISTS)) throw err;
        }
        return true;
      },
      { what: `Temporal to register namespace ${namespace}`, timeoutMs, intervalMs: 250 },
    );
    await waitUntil(
      async () => {
        await service.describeNamespace({ namespace });
        await service.listWorkflowExecutions({ namespace, pageSize: 1 });
        return true;
      },
      { what: `namespace ${namespace} to be usable`, timeoutMs, intervalMs: 250 },
    );
  } finally {
    await connection.close();
  }
}
