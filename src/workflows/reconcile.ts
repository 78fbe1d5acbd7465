import { proxyActivities } from '@temporalio/workflow';
import type { ReconcileActivities, ReconcileActivityOptions } from '../contract/reconcile-report.js';
import type { ReconcileReport } from '../contract/reconcile-report.js';

const { reconcile } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '10 minutes',
  // The activity heartbeats every second: a dead worker's cycle is retried elsewhere within seconds.
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'reconcile live rows and slot leases with Temporal',
});

/** One reconcile cycle; a Temporal Schedule runs it every interval and the worker once at start. */
export async function reconcileWorkflow(options: ReconcileActivityOptions = {}): Promise<ReconcileReport> {
  return reconcile(options);
}
