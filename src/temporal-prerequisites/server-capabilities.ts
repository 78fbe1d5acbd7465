import type { Connection } from '@temporalio/client';
import type { Logger } from '../util/logger.js';

/** What Lifeline relies on that not every Temporal server offers. */
export interface ServerCapabilities {
  /** As the server reports it (`1.32.1`; Temporal Cloud reports its own scheme). */
  version: string | undefined;
  /** Temporal Schedules: Lifeline's schedules and the reconciler's own schedule. */
  schedules: boolean;
  /** The `TemporalReportedProblems` search attribute (server 1.30 and later): how stuck executions are found. */
  reportedProblems: boolean;
  /** Worker Deployments (server 1.29.1 and later): what LIFELINE_WORKER_VERSIONING=on uses. */
  workerDeployments: boolean;
}

const grpcCode = (err: unknown) => (err as { code?: number }).code;
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;

/** True unless the server answers that it does not know what was asked: any other error is not about the capability. */
async function answers(call: () => Promise<unknown>, unknownCodes: number[]): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if (unknownCodes.includes(grpcCode(err) ?? -1)) return false;
    throw err;
  }
}

/** Asks the server (GetSystemInfo) and tries what it cannot tell: each probe is a read. */
export async function readServerCapabilities(connection: Connection, namespace: string): Promise<ServerCapabilities> {
  const info = await connection.workflowService.getSystemInfo({});
  const reportedProblems = await answers(
    () =>
      connection.workflowService.countWorkflowExecutions({
        namespace,
        query: `TemporalReportedProblems IN ('category=WorkflowTaskFailed')`,
      }),
    [INVALID_ARGUMENT],
  );
  const workerDeployments = await answers(
    () => connection.workflowService.listWorkerDeployments({ namespace, pageSize: 1 }),
    [UNIMPLEMENTED, INVALID_ARGUMENT],
  );
  return {
    version: info.serverVersion || undefined,
    schedules: info.capabilities?.supportsSchedules === true,
    reportedProblems,
    workerDeployments,
  };
}

/** What will not work on this server, in words an operator acts on; empty when everything will. */
export function capabilityWarnings(caps: ServerCapabilities, opts: { versioning: boolean; reconcileIntervalSeconds: number }): string[] {
  const on = `Temporal ${caps.version ?? '(version unknown)'}`;
  const warnings: string[] = [];
  if (!caps.schedules)
    warnings.push(
      `${on} has no Schedules: \`lifeline schedules\` will fail${opts.reconcileIntervalSeconds > 0 ? ', and so will the reconciler schedule (set LIFELINE_RECONCILE_INTERVAL_SECONDS=0 and run `lifeline reconcile` from cron)' : ''}`,
    );
  if (!caps.reportedProblems)
    warnings.push(
      `${on} does not set TemporalReportedProblems (server 1.30 and later do): executions whose workflow task keeps failing are looked for among the 200 newest running executions each reconcile cycle (alert stuck_detection_degraded)`,
    );
  if (opts.versioning && !caps.workerDeployments)
    warnings.push(`${on} has no Worker Deployments (server 1.29.1 and later): LIFELINE_WORKER_VERSIONING=on cannot work; set it to off`);
  return warnings;
}

/** Logs the server's version and capabilities once at start, and what will not work there as warnings. */
export async function logServerCapabilities(
  connection: Connection,
  config: { temporal: { namespace: string }; versioning: unknown; reconciler: { intervalSeconds: number } },
  log: Logger,
): Promise<ServerCapabilities> {
  const caps = await readServerCapabilities(connection, config.temporal.namespace);
  log.info({ temporal: caps }, 'Temporal server');
  for (const warning of capabilityWarnings(caps, {
    versioning: config.versioning !== undefined,
    reconcileIntervalSeconds: config.reconciler.intervalSeconds,
  }))
    log.warn(warning);
  return caps;
}
