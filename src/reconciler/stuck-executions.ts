import type { WorkflowClient } from '@temporalio/client';
import proto from '@temporalio/proto';
import { agentExecution } from '../workflows/agent-execution.js';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionReader } from '../store/execution-reader.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { WorkflowTaskFailedCause } = proto.temporal.api.enums.v1;

/** An execution whose workflow cannot make progress: its workflow task keeps failing or timing out. */
export interface StuckExecution {
  executionId: string;
  agent?: string;
  /** The row's status: it stays as it is, since the right worker may come back. */
  rowStatus?: ExecutionStatus;
  /** What Temporal reports and the last failure says, such as a nondeterminism error after a code change. */
  cause: string;
  /** The workflow task's attempt: how many times it failed in a row. */
  attempts?: number;
  /** Since when the failing workflow task has been scheduled. */
  since?: Date;
}

/**
 * Temporal marks a running workflow whose workflow task failed or timed out this many times in a
 * row with the `TemporalReportedProblems` search attribute (dynamic config
 * `system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute`; Lifeline's dev server and
 * Compose set 2). Visibility finds them without describing every running execution.
 */
export function stuckWorkflowsQuery(): string {
  return [
    `WorkflowType = '${agentExecution.name}'`,
    `ExecutionStatus = 'Running'`,
    `TemporalReportedProblems IN ('category=WorkflowTaskFailed', 'category=WorkflowTaskTimedOut')`,
  ].join(' AND ');
}

/** How many executions are stuck now, for the metric. */
export async function countStuckExecutions(workflows: WorkflowClient): Promise<number> {
  return (await workflows.count(stuckWorkflowsQuery())).count;
}

/** The stuck executions, each with its row and the cause in words; a few describe calls each, but only for those. */
export async function listStuckExecutions(deps: { workflows: WorkflowClient; executions: ExecutionReader }): Promise<StuckExecution[]> {
  const found: { workflowId: string; problems: string[] }[] = [];
  for await (const workflow of deps.workflows.list({ query: stuckWorkflowsQuery() })) {
    const problems = workflow.searchAttributes?.TemporalReportedProblems;
    found.push({ workflowId: workflow.workflowId, problems: Array.isArray(problems) ? problems.map(String) : [] });
  }
  const stuck: StuckExecution[] = [];
  for (const { workflowId, problems } of found) {
    const problem = await workflowTaskProblem(deps.workflows, workflowId);
    const row = await deps.executions.get(workflowId);
    const reported = problems.find((p) => p.startsWith('cause='))?.slice('cause='.length);
    stuck.push({
      executionId: workflowId,
      agent: row?.agent,
      rowStatus: row?.status,
      cause: problem?.lastFailure ?? reported ?? 'its workflow task keeps failing',
      attempts: problem?.attempts,
      since: problem?.since,
    });
  }
  return stuck;
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
