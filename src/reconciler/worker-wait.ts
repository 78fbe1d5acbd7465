import type { Cycle } from './cycle.js';

/**
 * Runs that hold their capacity slot but that no worker has started: every worker is at
 * LIFELINE_MAX_CONCURRENT_RUNS. Nothing is recovered (a worker takes them once one frees up, and
 * their deadline has not started), but past the alert time the operator is told to add workers.
 */
export async function reportWorkerWait(cycle: Cycle): Promise<void> {
  const { deps, report, dryRun } = cycle;
  const waits = await deps.executions.awaitingWorker();
  report.awaitingWorker = waits.reduce((sum, wait) => sum + wait.count, 0);
  const limitMs = deps.settings.reconciler.workerWaitAlertSeconds * 1000;
  const late = waits.filter((wait) => Date.now() - wait.oldestSince.getTime() >= limitMs);
  if (late.length === 0 || dryRun) return;
  const oldestSeconds = Math.round((Date.now() - Math.min(...late.map((wait) => wait.oldestSince.getTime()))) / 1000);
  await deps.standingAlerts.send(
    {
      kind: 'runs_waiting_for_worker',
      summary:
        `${report.awaitingWorker} admitted run(s) wait for a worker, the oldest for ${oldestSeconds} s ` +
        `(limit ${deps.settings.reconciler.workerWaitAlertSeconds} s): every worker runs LIFELINE_MAX_CONCURRENT_RUNS; add workers or raise it`,
      details: { byAgent: Object.fromEntries(waits.map((wait) => [wait.agent, wait.count])), oldestSeconds },
    },
    late
      .map((wait) => wait.agent)
      .sort()
      .join(','),
  );
}
