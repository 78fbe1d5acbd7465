import { currentBuildsWithoutWorkers } from './current-build.js';
import type { Cycle } from './cycle.js';

/** Alerts (once per LIFELINE_ALERT_REPEAT_SECONDS) while a current build has no workers, naming the builds that could take over. */
export async function reportCurrentBuildsWithoutWorkers(cycle: Cycle): Promise<void> {
  const { deps, report, dryRun } = cycle;
  try {
    report.currentBuildsWithoutWorkers = await currentBuildsWithoutWorkers({
      ...deps,
      workerGoneSeconds: deps.settings.reconciler.workerGoneSeconds,
    });
  } catch (err) {
    deps.repeatedWarnings.warn(
      deps.log,
      'current-builds',
      { err: (err as Error).message },
      'reconciler could not check the current builds',
    );
    return;
  }
  if (dryRun) return;
  for (const { deployment, build, buildsWithWorkers } of report.currentBuildsWithoutWorkers) {
    const way =
      buildsWithWorkers.length > 0 ? `\`lifeline deploy set-current ${buildsWithWorkers[0]}\`` : `start workers of build ${build}`;
    await deps.standingAlerts.send(
      {
        kind: 'current_build_without_workers',
        summary: `deployment ${deployment}: its current build ${build} has no workers, so new executions wait; ${way}`,
        details: { deployment, build, buildsWithWorkers, runbook: 'docs/operations.md: Rollouts with Worker Versioning' },
      },
      `${deployment}:${build}`,
    );
  }
}
