import type { ReconcileActivities, ReconcileActivityOptions } from '../contract/reconcile-report.js';
import { Context } from '@temporalio/activity';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { ReconcileReport } from '../contract/reconcile-report.js';
import { reconcileOnce } from '../reconciler/reconcile.js';
import { reconcileScheduled } from '../reconciler/scheduled-cycle.js';

/** The returned report is stored in workflow history: keep only the first recoveries and failures. */
const reportedItems = 50;

/** Well inside the reconcile workflow's heartbeat timeout (src/workflows/reconcile.ts). */
const heartbeatEveryMs = 1000;

export function createReconcileActivities(deps: LifelineDeps): ReconcileActivities {
  return {
    async reconcile({ sweep, dryRun, graceSeconds }: ReconcileActivityOptions = {}): Promise<ReconcileReport> {
      // A worker that dies mid-cycle is noticed within the heartbeat timeout and the cycle retried
      // elsewhere, instead of holding the schedule (which skips overlapping fires) for its whole timeout.
      const ctx = Context.current();
      const beating = setInterval(() => ctx.heartbeat(), heartbeatEveryMs);
      try {
        const report = sweep
          ? await reconcileOnce(deps, { sweep, dryRun, graceSeconds })
          : await reconcileScheduled(deps, { dryRun, graceSeconds });
        return { ...report, recoveries: report.recoveries.slice(0, reportedItems), failures: report.failures.slice(0, reportedItems) };
      } finally {
        clearInterval(beating);
      }
    },
  };
}
