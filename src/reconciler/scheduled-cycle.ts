import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { ReconcileReport } from '../contract/reconcile-report.js';
import { reconcileOnce, type ReconcileOptions } from './reconcile.js';

/**
 * The cycle the schedule runs: a full sweep when it is this cycle's turn (see full-sweep-turns.ts),
 * otherwise anomalies only. A full sweep that failed anywhere, or only looked (dry run), leaves the
 * turn to the next cycle, so a sweep that did not finish costs a cycle, not an interval.
 */
export async function reconcileScheduled(
  deps: LifelineDeps,
  { dryRun = false, graceSeconds }: Omit<ReconcileOptions, 'sweep'> = {},
): Promise<ReconcileReport> {
  const full = await deps.fullSweeps.claim();
  let finished = false;
  try {
    const report = await reconcileOnce(deps, { sweep: full ? 'full' : 'anomalies', dryRun, graceSeconds });
    finished = report.failures.length === 0 && !dryRun;
    return report;
  } finally {
    if (full && !finished) await deps.fullSweeps.giveBack();
  }
}
