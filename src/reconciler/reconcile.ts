import { forEachConcurrently } from '../util/for-each-concurrently.js';
import { anomalousRows } from './anomalies.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { parallelChecks, startCycle } from './cycle.js';
import { type ReconcileReport, type Sweep } from '../contract/reconcile-report.js';
import { leaseHoldersOf, reconcileLiveRow } from './live-rows.js';
import { recordNeverPickedUp } from './never-picked-up.js';
import { stopOrphanProcesses } from './agent-processes.js';
import { releaseOrphanLeases } from './orphan-leases.js';
import { reconcileSlotHolds } from './slot-holds.js';
import { reportCurrentBuildsWithoutWorkers } from './current-build-report.js';
import { reportStuckExecutions } from './stuck-report.js';
import { reportWorkerWait } from './worker-wait.js';
import { reportTenantBudgets } from './tenant-budgets.js';
import { reconcileTenantHolds } from './tenant-holds.js';

export interface ReconcileOptions {
  sweep: Sweep;
  dryRun?: boolean;
  /** Instead of the configured grace: `lifeline reconcile` and tests look at rows of any age. */
  graceSeconds?: number;
}

/**
 * One reconcile cycle (DESIGN §6). Finalizes live rows whose workflow is closed or missing (the
 * case of Terminate in the Temporal UI, where no workflow code runs), stopping their agent process
 * and releasing their slot; restores the lease Redis lost of an execution that holds a slot; then
 * releases leases whose workflow is closed or missing. An execution whose workflow closed before
 * any worker picked it up (Temporal's execution timeout, a terminate) gets its terminal row, which
 * it never had (never-picked-up.ts). It never finalizes or releases an execution
 * whose workflow is running, whatever its lease says. A full sweep asks Temporal about every live
 * row; an `anomalies` cycle only about those the cheap signals single out (see anomalies.ts).
 * Last, at once with that record and the stop of agent processes whose row ended, it alerts when
 * admitted runs have waited too long for a worker (worker-wait.ts), on executions whose workflow
 * cannot make progress (stuck-report.ts), and on tenants' budgets 80 % or fully spent
 * (tenant-budgets.ts). Without Redis, only the passes that need no slot run.
 */
export async function reconcileOnce(
  deps: LifelineDeps,
  { sweep, dryRun = false, graceSeconds = deps.settings.reconciler.graceSeconds }: ReconcileOptions,
): Promise<ReconcileReport> {
  const started = Date.now();
  const cycle = startCycle(deps, dryRun, sweep);
  const { report } = cycle;
  try {
    // Every pass that takes or frees a slot would spend seconds per call failing without Redis:
    // they wait for the next cycle, and the cycle still does what needs no Redis.
    if (await redisReachable(cycle)) {
      // Before the live rows: leases Redis lost are rebuilt whole, not restored one by one.
      await reconcileSlotHolds(cycle);
      const live = await deps.executions.listLive(graceSeconds);
      report.liveRowsChecked = live.length;
      // Each agent's leases read once: only a row holding a slot but missing from them needs the restore script.
      const leaseHolders = await leaseHoldersOf(deps, new Set(live.map((row) => row.agent)));
      const candidates = sweep === 'anomalies' ? await anomalousRows(cycle, live, leaseHolders) : live;
      if (!candidates) report.sweep = 'full';
      await forEachConcurrently(candidates ?? live, parallelChecks, (row) => reconcileLiveRow(cycle, row, leaseHolders));
      await releaseOrphanLeases(cycle);
      await reconcileTenantHolds(cycle);
    }
    // Independent of each other, so they run at once (a cycle lasts as long as the slowest, not
    // their sum), and one that fails lets the others finish before the cycle reports it.
    const passes = await Promise.allSettled([
      recordNeverPickedUp(cycle, graceSeconds),
      stopOrphanProcesses(cycle),
      reportWorkerWait(cycle),
      reportStuckExecutions(cycle),
      reportCurrentBuildsWithoutWorkers(cycle),
      reportTenantBudgets(cycle),
    ]);
    const failed = passes.find((pass) => pass.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    // A cycle that cannot run at all (Postgres down, say) is the most degraded of all.
    await deps.alerter.send({
      kind: 'reconciler_degraded',
      summary: `reconcile cycle failed: ${err instanceof Error ? err.message : String(err)}`,
      details: { sweep, dryRun },
    });
    throw err;
  }

  report.durationMs = Date.now() - started;
  deps.metrics.reconcileCycle(report.sweep, report.durationMs / 1000, report.workflowsDescribed);
  // Redis out of reach has its own de-duplicated alert, not one more every cycle.
  const failed = report.failures.filter((f) => f.executionId !== redisFailure);
  const attempted = report.recoveries.length + failed.length;
  if (failed.length > 0 && failed.length * 2 >= attempted) {
    await deps.alerter.send({
      kind: 'reconciler_degraded',
      summary: `reconciler failed ${failed.length} of ${attempted} recoveries`,
      details: { failures: failed.slice(0, 20) },
    });
  }
  if (attempted > 0) {
    deps.log.info(
      { recoveries: report.recoveries.length, failures: report.failures.length, dryRun, sweep: report.sweep },
      'reconcile cycle',
    );
  }
  return report;
}

/** The failure entry of a cycle that could not reach Redis. */
const redisFailure = '(redis)';

/**
 * Redis out of reach is said at the start of the cycle (whose Redis calls then each take seconds to
 * fail), and its de-duplication never asks Redis: this process remembers when it last said it.
 */
async function redisReachable(cycle: ReturnType<typeof startCycle>): Promise<boolean> {
  const { deps, report, dryRun } = cycle;
  try {
    await deps.slots.ping();
    return true;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    cycle.fail(redisFailure, err);
    if (dryRun) return false;
    await deps.standingAlerts.send(
      {
        kind: 'reconciler_degraded',
        summary: `Redis cannot be reached (${error}): capacity slots can be neither taken nor checked, so admissions wait and the reconciler cannot restore leases`,
        details: { sweep: report.sweep, runbook: 'docs/operations.md: The reconciler, Redis' },
      },
      'redis-unreachable',
      { localOnly: true },
    );
    return false;
  }
}
