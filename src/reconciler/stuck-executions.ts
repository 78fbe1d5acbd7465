import type { StuckExecution } from '../contract/reconcile-report.js';
import type { WorkflowClient } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { searchAttributes } from '../domain/search-attributes.js';
import type { ExecutionReader } from '../store/execution-reader.js';
import { noWorkerPollingText, taskQueueWorkers, type TaskQueueWorkers } from '../temporal-api/task-queue-pollers.js';
import { polledBuilds, versionKey, type PolledBuilds, type PollSources } from './polled-builds.js';
import { maxDescribedForProblems, reportedProblemsAvailable } from './reported-problems.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

/** Where stuck executions are looked for: Temporal, the rows, and the task queue whose pollers tell which builds have workers. */
export interface StuckSources extends PollSources {
  executions: ExecutionReader;
  /** Whether visibility has TemporalReportedProblems; asked of the server when absent (tests force the fallback with false). */
  reportedProblems?: boolean;
}

/**
 * Temporal marks a running workflow whose workflow task failed or timed out this many times in a
 * row with the `TemporalReportedProblems` search attribute (dynamic config
 * `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute`; Lifeline's dev server and
 * Compose set 2). Visibility finds them without describing every running execution.
 */
const runningExecutions = [`WorkflowType = '${executionWorkflowType}'`, `ExecutionStatus = 'Running'`];
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
export function strandedWorkflowsQuery(taskQueue: string, builds: PolledBuilds, withReportedProblems = true): string {
  const alive = [...builds.alive].filter((b) => quotable.test(b)).map((b) => `'${b}'`);
  return [
    ...runningExecutions,
    `TaskQueue = '${taskQueue}'`,
    `TemporalWorkerDeploymentVersion IS NOT NULL`,
    // A chain of != rather than NOT IN, which Temporal does not document for Temporal Cloud.
    ...alive.map((b) => `TemporalWorkerDeploymentVersion != ${b}`),
    ...(withReportedProblems ? [`TemporalReportedProblems IS NULL`] : []),
  ].join(' AND ');
}

/**
 * Running executions that no worker has picked up: the client and schedules set LifelineStatus
 * `queued` at start, and the workflow's first workflow task sets LifelinePhase, so one without a
 * phase has never completed a workflow task (and has no row: admission writes it first). Those
 * already failing their workflow task are the first query's. Which of them no worker will pick up,
 * DescribeTaskQueue tells: their task queue (any, a misspelt one included) has no live poller.
 */
export function unpickedWorkflowsQuery(withReportedProblems = true): string {
  return [...runningExecutions, ...notPickedUpConditions, ...(withReportedProblems ? [`TemporalReportedProblems IS NULL`] : [])].join(
    ' AND ',
  );
}

/**
 * Not yet picked up by any worker: the status the client and schedules set at start (or none, for
 * a start some other way, which the first workflow task fills in) and no phase.
 */
export const notPickedUpConditions = [
  `(${searchAttributes.status.name} = 'queued' OR ${searchAttributes.status.name} IS NULL)`,
  `${searchAttributes.phase.name} IS NULL`,
];

/** Executions a cycle (or `executions problems`) looks at for `no_worker_polling`, newest first: a bound on its cost. */
export const maxUnpickedPerCycle = 200;

/** The stuck-execution sources of Lifeline's dependencies. */
export function stuckSourcesOf(deps: LifelineDeps): StuckSources {
  return { ...deps, workerGoneSeconds: deps.settings.reconciler.workerGoneSeconds };
}

/** How many executions are stuck now, for the metric. */
export async function countStuckExecutions(sources: Omit<StuckSources, 'executions'>): Promise<number> {
  const builds = await polledBuilds(sources);
  const withProblems = await hasReportedProblems(sources);
  // Without TemporalReportedProblems, failing workflow tasks are found by describing executions, too
  // costly for each scrape: the gauge then counts the other causes, and the cycle's alert says so.
  const [failing, stranded, unpolled] = await Promise.all([
    withProblems ? sources.workflows.count(stuckWorkflowsQuery()) : { count: 0 },
    sources.workflows.count(strandedWorkflowsQuery(sources.taskQueue, builds, withProblems)),
    unpolledExecutions(sources, withProblems),
  ]);
  return failing.count + stranded.count + unpolled.length;
}

function hasReportedProblems(sources: Pick<StuckSources, 'workflows' | 'reportedProblems'>): Promise<boolean> {
  return sources.reportedProblems !== undefined ? Promise.resolve(sources.reportedProblems) : reportedProblemsAvailable(sources.workflows);
}

/**
 * Running executions whose workflow task keeps failing: from TemporalReportedProblems, or, on a
 * server without it, by describing the newest `maxDescribedForProblems` running executions.
 */
async function failingWorkflowTasks(sources: StuckSources, withProblems: boolean): Promise<StuckExecution[]> {
  const failing: StuckExecution[] = [];
  let seen = 0;
  const query = withProblems ? stuckWorkflowsQuery() : runningExecutions.join(' AND ');
  for await (const workflow of sources.workflows.list({ query, pageSize: withProblems ? undefined : maxDescribedForProblems })) {
    if (!withProblems && ++seen > maxDescribedForProblems) break;
    const reported = workflow.searchAttributes?.TemporalReportedProblems;
    const cause = Array.isArray(reported) ? reported.map(String).find((p) => p.startsWith('cause=')) : undefined;
    const problem = await workflowTaskProblem(sources.workflows, workflow.workflowId);
    if (!problem && !withProblems) continue;
    failing.push({
      ...(await rowOf(sources, workflow.workflowId)),
      reason: 'workflow_task_failing',
      cause: problem?.lastFailure ?? cause?.slice('cause='.length) ?? 'its workflow task keeps failing',
      attempts: problem?.attempts,
      since: problem?.since,
    });
  }
  return failing;
}

/** An execution no worker has picked up, on a task queue no live worker polls. */
interface UnpolledExecution {
  executionId: string;
  agent?: string;
  startedAt: Date;
  workers: TaskQueueWorkers;
}

/**
 * The executions no worker has picked up whose task queue has no live poller: at most
 * `maxUnpickedPerCycle` candidates from visibility, and one DescribeTaskQueue per task queue among them.
 */
export async function unpolledExecutions(sources: Omit<StuckSources, 'executions'>, withProblems = true): Promise<UnpolledExecution[]> {
  const queues = new Map<string, Promise<TaskQueueWorkers>>();
  const workersOf = (taskQueue: string) => {
    let workers = queues.get(taskQueue);
    if (!workers) {
      workers = taskQueueWorkers(sources.workflows, taskQueue, { now: sources.clock(), workerGoneSeconds: sources.workerGoneSeconds });
      queues.set(taskQueue, workers);
    }
    return workers;
  };
  const found: UnpolledExecution[] = [];
  let seen = 0;
  for await (const workflow of sources.workflows.list({ query: unpickedWorkflowsQuery(withProblems), pageSize: maxUnpickedPerCycle })) {
    if (++seen > maxUnpickedPerCycle) break;
    const workers = await workersOf(workflow.taskQueue);
    if (workers.alive > 0) continue;
    found.push({
      executionId: workflow.workflowId,
      agent: workflow.typedSearchAttributes.get(searchAttributes.agent),
      startedAt: workflow.startTime,
      workers,
    });
  }
  return found;
}

/** The stuck executions, each with its row and the cause in words; a few describe calls each, but only for those. */
export async function listStuckExecutions(sources: StuckSources): Promise<{ stuck: StuckExecution[]; reportedProblems: boolean }> {
  const withProblems = await hasReportedProblems(sources);
  const stuck = await failingWorkflowTasks(sources, withProblems);
  // Without the attribute the other queries cannot leave the failing ones out: each execution once.
  const listed = new Set(stuck.map((s) => s.executionId));
  const builds = await polledBuilds(sources);
  for await (const workflow of sources.workflows.list({ query: strandedWorkflowsQuery(sources.taskQueue, builds, withProblems) })) {
    if (listed.has(workflow.workflowId)) continue;
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
  for (const unpolled of await unpolledExecutions(sources, withProblems)) {
    if (listed.has(unpolled.executionId)) continue;
    const row = await rowOf(sources, unpolled.executionId);
    stuck.push({
      ...row,
      agent: row.agent ?? unpolled.agent,
      reason: 'no_worker_polling',
      cause: `not yet picked up by any worker: ${noWorkerPollingText(unpolled.workers)}`,
      since: unpolled.startedAt,
      taskQueue: unpolled.workers.taskQueue,
    });
  }
  return { stuck, reportedProblems: withProblems };
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
