import type { CurrentBuildWithoutWorkers } from '../contract/reconcile-report.js';
import { deploymentBuilds } from '../temporal-api/worker-deployment.js';
import { polledBuilds, versionKey, type PollSources } from './polled-builds.js';

/**
 * Under Worker Versioning new executions go to the deployment's current build. When its workers
 * are gone (a new build deployed in place without `lifeline deploy set-current`), new executions
 * wait without a trace: their first workflow task is never picked up, so no row is admitted and
 * nothing fails. The deployments are the ones whose builds poll (or polled) Lifeline's task queue.
 */
export async function currentBuildsWithoutWorkers(sources: PollSources): Promise<CurrentBuildWithoutWorkers[]> {
  const builds = await polledBuilds(sources);
  const deployments = new Set([...builds.lastPoll.keys()].map((key) => key.slice(0, key.indexOf(':'))));
  const found: CurrentBuildWithoutWorkers[] = [];
  for (const deployment of deployments) {
    const all = await deploymentBuilds(sources.workflows, deployment);
    const current = all.find((b) => b.status === 'current');
    if (!current || builds.alive.has(versionKey(deployment, current.buildId))) continue;
    const buildsWithWorkers = all.filter((b) => builds.alive.has(versionKey(deployment, b.buildId))).map((b) => b.buildId);
    found.push({ deployment, build: current.buildId, buildsWithWorkers });
  }
  return found;
}
