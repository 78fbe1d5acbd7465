import type { WorkflowClient } from '@temporalio/client';
import proto from '@temporalio/proto';
import { agentExecution } from '../workflows/agent-execution.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionReader } from '../store/execution-reader.js';
import { polledBuilds, versionKey, type PolledBuilds, type PollSources } from './polled-builds.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

/**
 * An execution whose workflow cannot make progress: its workflow task keeps failing or timing out
 * (`workflow_task_failing`), or it is pinned to a build that no worker polls any more
 * (`no_worker_for_build`: its workers were stopped before it drained).
 */
export interface StuckExecution {
  executionId: string;
  agent?: string;
  /** The row's status: it stays as it is, since the right worker may come back. */
  rowStatus?: ExecutionStatus;
  reason: 'workflow_task_failing' | 'no_worker_for_build';
  /** What Temporal reports and the last failure says, such as a nondeterminism error after a code change. */
  cause: string;
  /** The workflow task's attempt: how many times it failed in a row. */
  attempts?: number;
  /** Since when the failing workflow task has been scheduled, or when the build's workers last polled. */
  since?: Date;
  /** The build (`deployment:build`) the execution is pinned to, when no worker polls it. */
  build?: string;
}

/** Where stuck executions are looked for: Temporal, the rows, and the task queue whose pollers tell which builds have workers. */
export interface StuckSources extends PollSources {
  executions: ExecutionReader;
}

/**
 * Temporal marks a running workflow whose workflow task failed or timed out this many times in a
 * row with the `TemporalReportedProblems` search attribute (dynamic config
 * `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute`; Lifeline's dev server and
 * Compose set 2). Visibility finds them without describing every running execution.
 */
const runningExecutions = [`WorkflowType = '${agentExecution.name}'`, `ExecutionStatus = 'Running'`];
const reportedProblems = `TemporalReportedProblems IN ('category=WorkflowTaskFailed', 'category=WorkflowTaskTimedOut')`;

export function stuckWorkflowsQuery(): string {
  return [...runningExecutions, reportedProblems].join(' AND ');
}

/** Build names that can go into a visibility query as they are; Lifeline's own always can. */
const quotable = /^[A-Za-z0-9_.:-]+$/;

/**
 * Running executions pinned to a build without a live poller. Those already failing their workflow
 * task are left to the other query, so that no execution is counted twice.
 */
export function strandedWorkflowsQuery(taskQueue: string, builds: PolledBuilds): string {
  const alive = [...builds.alive].filter((b) => quotable.test(b)).map((b) => `'${b}'`);
  return [
    ...runningExecutions,
    `TaskQueue = '${taskQueue}'`,
    `TemporalWorkerDeploymentVersion IS NOT NULL`,
    ...(alive.length > 0 ? [`TemporalWorkerDeploymentVersion NOT IN (${alive.join(', ')})`] : []),
    `TemporalReportedProblems IS NULL`,
  ].join(' AND ');
}

/** The stuck-execution sources of Lifeline's dependencies. */
export function stuckSourcesOf(deps: LifelineDeps): StuckSources {
  return { ...deps, workerGoneSeconds: deps.settings.reconciler.workerGoneSeconds };
}

/** How many executions are stuck now, for the metric. */
export async function countStuckExecutions(sources: Omit<StuckSources, 'executions'>): Promise<number> {
  const builds = await polledBuilds(sources);
  const [failing, stranded] = await Promise.all([
    sources.workflows.count(stuckWorkflowsQuery()),
    sources.workflows.count(strandedWorkflowsQuery(sources.taskQueue, builds)),
  ]);
  return failing.count + stranded.count;
}

/** The stuck executions, each with its row and the cause in words; a few describe calls each, but only for those. */
export async function listStuckExecutions(sources: StuckSources): Promise<StuckExecution[]> {
  const stuck: StuckExecution[] = [];
  for await (const workflow of sources.workflows.list({ query: stuckWorkflowsQuery() })) {
    const reported = workflow.searchAttributes?.TemporalReportedProblems;
    const cause = Array.isArray(reported) ? reported.map(String).find((p) => p.startsWith('cause=')) : undefined;
    const problem = await workflowTaskProblem(sources.workflows, workflow.workflowId);
    stuck.push({
      ...(await rowOf(sources, workflow.workflowId)),
      reason: 'workflow_task_failing',
      cause: problem?.lastFailure ?? cause?.slice('cause='.length) ?? 'its workflow task keeps failing',
      attempts: problem?.attempts,
      since: problem?.since,
    });
  }
  const builds = await polledBuilds(sources);
  for await (const workflow of sources.workflows.list({ query: strandedWorkflowsQuery(sources.taskQueue, builds) })) {
    const pinned = workflow.searchAttributes?.TemporalWorkerDeploymentVersion;
    const build = Array.isArray(pinned) ? String(pinned[0]) : 'unknown';
    stuck.push({
      ...(await rowOf(sources, workflow.workflowId)),
      reason: 'no_worker_for_build',
      cause: noWorkerCause(build, builds),
      since: builds.lastPoll.get(build),
      build,
    });
  }
  return stuck;
}

async function rowOf(sources: StuckSources, executionId: string): Promise<Pick<StuckExecution, 'executionId' | 'agent' | 'rowStatus'>> {
  const row = await sources.executions.get(executionId);
  return { executionId, agent: row?.agent, rowStatus: row?.status };
}

function noWorkerCause(build: string, builds: PolledBuilds): string {
  const last = builds.lastPoll.get(build);
  return `pinned to build ${build}, which no worker polls${last ? ` (its workers last polled at ${last.toISOString()})` : ''}`;
}

/** Whether one live execution is pinned to a build without a live poller; for `executions show`. */
export async function strandedBuildProblem(
  sources: Omit<StuckSources, 'executions'>,
  workflowId: string,
): Promise<{ build: string; cause: string } | undefined> {
  const { raw } = await sources.workflows.getHandle(workflowId).describe();
  const pinned = raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion;
  if (!pinned?.deploymentName || !pinned.buildId) return undefined;
  const builds = await polledBuilds(sources);
  const build = versionKey(pinned.deploymentName, pinned.buildId);
  return builds.alive.has(build) ? undefined : { build, cause: noWorkerCause(build, builds) };
}

/** The workflow task a workflow is stuck on, if it is failing: its attempt, since when, and the last failure's message. */
export async function workflowTaskProblem(
  workflows: WorkflowClient,
  workflowId: string,
): Promise<{ attempts: number; since?: Date; lastFailure?: string } | undefined> {
  const { raw } = await workflows.getHandle(workflowId).describe();
  const task = raw.pendingWorkflowTask;
  if (!task || (task.attempt ?? 1) <= 1) return undefined;
  const seconds = task.originalScheduledTime?.seconds;
  const { history } = await workflows.workflowService.getWorkflowExecutionHistoryReverse({
    namespace: workflows.options.namespace,
    execution: { workflowId },
    maximumPageSize: 20,
  });
  const failed = history?.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
  const cause = failed?.cause ? WorkflowTaskFailedCause[failed.cause]?.replace('WORKFLOW_TASK_FAILED_CAUSE_', '') : undefined;
  const message = failed?.failure?.message?.split('\n')[0];
  return {
    attempts: task.attempt ?? 1,
    since: seconds !== undefined && seconds !== null ? new Date(Number(seconds) * 1000) : undefined,
    lastFailure: [cause, message].filter(Boolean).join(': ') || undefined,
  };
}
