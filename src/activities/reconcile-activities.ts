import { reconcileOnce, type ReconcileReport } from '../reconciler/reconcile.js';
import type { ActivityDeps } from './activity-deps.js';

/** The returned report is stored in workflow history: keep only the first recoveries and failures. */
const reportedItems = 50;

export function createReconcileActivities(deps: ActivityDeps) {
  return {
    async reconcile(options: { dryRun?: boolean; graceSeconds?: number } = {}): Promise<ReconcileReport> {
      const report = await reconcileOnce(
        { ...deps, graceSeconds: options.graceSeconds ?? deps.reconcileGraceSeconds, stopWaitSeconds: deps.settings.stopWaitSeconds },
        { dryRun: options.dryRun },
      );
      return { ...report, recoveries: report.recoveries.slice(0, reportedItems), failures: report.failures.slice(0, reportedItems) };
    },
  };
}
