import type { WorkflowClient } from '@temporalio/client';
import proto from '@temporalio/proto';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * How long a poller may go without polling before its worker counts as gone, when the caller has no
 * LIFELINE_WORKER_GONE_SECONDS of its own (the client): above Temporal's long-poll expiry (60 s by
 * default), since an idle worker polls again only when its long poll expires.
 */
export const defaultWorkerGoneSeconds = 75;

/** One worker polling a workflow task queue, as Temporal last saw it. */
export interface WorkflowPoller {
  lastPoll: Date;
  /** Under Worker Versioning, the deployment and build it polls as. */
  deploymentName?: string;
  buildId?: string;
}

/**
 * The pollers of a workflow task queue (`DescribeTaskQueue`). A queue that no worker ever polled,
 * such as a misspelt LIFELINE_TASK_QUEUE, has none; a stopped worker stays listed for minutes, its
 * last poll ageing (see `isAlive`).
 */
export async function workflowPollers(workflows: WorkflowClient, taskQueue: string): Promise<WorkflowPoller[]> {
  const { pollers } = await workflows.workflowService.describeTaskQueue({
    namespace: workflows.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers ?? []).map((poller) => ({
    lastPoll: new Date(Number(poller.lastAccessTime?.seconds ?? 0) * 1000),
    deploymentName: poller.deploymentOptions?.deploymentName ?? undefined,
    buildId: poller.deploymentOptions?.buildId ?? undefined,
  }));
}

/**
 * A poller counts as alive while its last poll is younger than `workerGoneSeconds`: Temporal answers an
 * idle long poll when it expires and the worker polls again at once.
 */
export function isAlive(poller: WorkflowPoller, now: number, workerGoneSeconds: number): boolean {
  return now - poller.lastPoll.getTime() < workerGoneSeconds * 1000;
}

/** Whether a live worker polls the task queue, and when the last one polled. */
export interface TaskQueueWorkers {
  taskQueue: string;
  alive: number;
  lastPoll?: Date;
}

export async function taskQueueWorkers(
  workflows: WorkflowClient,
  taskQueue: string,
  { now = Date.now(), workerGoneSeconds = defaultWorkerGoneSeconds }: { now?: number; workerGoneSeconds?: number } = {},
): Promise<TaskQueueWorkers> {
  const pollers = await workflowPollers(workflows, taskQueue);
  const last = Math.max(0, ...pollers.map((p) => p.lastPoll.getTime()));
  return {
    taskQueue,
    alive: pollers.filter((p) => isAlive(p, now, workerGoneSeconds)).length,
    lastPoll: last > 0 ? new Date(last) : undefined,
  };
}

/** Why nothing happens to an execution on a task queue no worker polls, in an operator's words. */
export function noWorkerPollingText(workers: TaskQueueWorkers): string {
  const last = workers.lastPoll ? `; its workers last polled at ${workers.lastPoll.toISOString()}` : '; no worker has polled it lately';
  return `no worker polls task queue ${workers.taskQueue}${last} (is LIFELINE_TASK_QUEUE right? are workers running?)`;
}
