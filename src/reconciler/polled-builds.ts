import type { WorkflowClient } from '@temporalio/client';
import { isAlive, workflowPollers } from '../temporal-api/task-queue-pollers.js';

/** The builds whose workers poll Lifeline's workflow task queue, each named as Temporal's search attribute names it. */
export interface PolledBuilds {
  /** `deployment:build` of every build with a live poller. */
  alive: Set<string>;
  /** The last poll of every build the server still remembers, alive or not. */
  lastPoll: Map<string, Date>;
}

/** `deployment:build`, the form of the `TemporalWorkerDeploymentVersion` search attribute. */
export const versionKey = (deploymentName: string, buildId: string) => `${deploymentName}:${buildId}`;

/** Where the pollers are asked about: Temporal, Lifeline's task queue, and when a build's workers count as gone. */
export interface PollSources {
  workflows: WorkflowClient;
  taskQueue: string;
  clock: () => number;
  /** How long a build may go without a poll before its workers count as gone. */
  workerGoneSeconds: number;
}

/** A build has workers while one of its pollers is alive (see `isAlive`); a stopped worker stays listed for minutes, its last poll ageing. */
export async function polledBuilds({ workflows, taskQueue, clock, workerGoneSeconds }: PollSources): Promise<PolledBuilds> {
  const now = clock();
  const builds: PolledBuilds = { alive: new Set(), lastPoll: new Map() };
  for (const poller of await workflowPollers(workflows, taskQueue)) {
    const { deploymentName, buildId, lastPoll } = poller;
    if (!deploymentName || !buildId) continue;
    const key = versionKey(deploymentName, buildId);
    if (lastPoll > (builds.lastPoll.get(key) ?? new Date(0))) builds.lastPoll.set(key, lastPoll);
    if (isAlive(poller, now, workerGoneSeconds)) builds.alive.add(key);
  }
  return builds;
}
