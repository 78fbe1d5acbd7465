import type { WorkflowClient } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { TaskQueueType } = proto.temporal.api.enums.v1;

/** The builds whose workers poll Lifeline's workflow task queue, each named as Temporal's search attribute names it. */
export interface PolledBuilds {
  /** `deployment:build` of every build with a live poller. */
  alive: Set<string>;
  /** The last poll of every build the server still remembers, alive or not. */
  lastPoll: Map<string, Date>;
}

/** `deployment:build`, the form of the `TemporalWorkerDeploymentVersion` search attribute. */
export const versionKey = (deploymentName: string, buildId: string) => `${deploymentName}:${buildId}`;

/**
 * A poller counts as alive while its last poll is younger than `workerGoneSeconds`: Temporal answers an
 * idle long poll when it expires and the worker polls again at once, while a stopped worker stays
 * listed (for minutes) with its last poll ageing.
 */
/** Where the pollers are asked about: Temporal, Lifeline's task queue, and when a build's workers count as gone. */
export interface PollSources {
  workflows: WorkflowClient;
  taskQueue: string;
  clock: () => number;
  /** How long a build may go without a poll before its workers count as gone. */
  workerGoneSeconds: number;
}

export async function polledBuilds({ workflows, taskQueue, clock, workerGoneSeconds }: PollSources): Promise<PolledBuilds> {
  const now = clock();
  const { pollers } = await workflows.workflowService.describeTaskQueue({
    namespace: workflows.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const builds: PolledBuilds = { alive: new Set(), lastPoll: new Map() };
  for (const poller of pollers ?? []) {
    const { deploymentName, buildId } = poller.deploymentOptions ?? {};
    if (!deploymentName || !buildId) continue;
    const key = versionKey(deploymentName, buildId);
    const at = new Date(Number(poller.lastAccessTime?.seconds ?? 0) * 1000);
    if (at > (builds.lastPoll.get(key) ?? new Date(0))) builds.lastPoll.set(key, at);
    if (now - at.getTime() < workerGoneSeconds * 1000) builds.alive.add(key);
  }
  return builds;
}
