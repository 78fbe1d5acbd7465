import type { ReconcileReport, Sweep } from '../reconciler/cycle.js';
import { reconcileOnce } from '../reconciler/reconcile.js';
import { reconcileScheduled } from '../reconciler/scheduled-cycle.js';
import type { ActivityDeps } from './activity-deps.js';

/** The returned report is stored in workflow history: keep only the first recoveries and failures. */
const reportedItems = 50;

export interface ReconcileActivityOptions {
  dryRun?: boolean;
  graceSeconds?: number;
  /** Unset: a full sweep when one is due, anomalies only otherwise (what the schedule runs). */
  sweep?: Sweep;
}

export function createReconcileActivities(deps: ActivityDeps) {
  return {
    async reconcile(options: ReconcileActivityOptions = {}): Promise<ReconcileReport> {
      const reconcilerDeps = {
        ...deps,
        graceSeconds: options.graceSeconds ?? deps.reconcileGraceSeconds,
        stopWaitSeconds: deps.settings.stopWaitSeconds,
      };
      const { sweep, dryRun } = options;
      const report = sweep ? await reconcileOnce(reconcilerDeps, { sweep, dryRun }) : await reconcileScheduled(reconcilerDeps, { dryRun });
      return { ...report, recoveries: report.recoveries.slice(0, reportedItems), failures: report.failures.slice(0, reportedItems) };
    },
  };
}
