import { defaultTenant } from '../domain/tenants.js';
import { recordNeverAdmittedEnd } from '../store/never-admitted-row.js';
import { searchAttributes } from '../domain/search-attributes.js';
import { readExecutionWorkflow } from '../temporal-api/execution-workflow.js';
import { forEachConcurrently } from '../util/for-each-concurrently.js';
import { isWorkflowOpen, outcomeForNeverPickedUp } from './close-status.js';
import { type WorkflowState } from '../contract/reconcile-report.js';
import { parallelChecks, type Cycle } from './cycle.js';
import { notPickedUpConditions } from './stuck-executions.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

/**
 * How far back a cycle looks for executions that closed before any worker picked them up. They
 * have no row, so no full sweep finds them later: the window must outlast a reconciler that is
 * away (every worker down) for a while. It costs little, since only workflows closed where no
 * workflow code ran match the query.
 */
export const neverPickedUpLookbackSeconds = 24 * 3600;

/** Candidates a cycle looks at, most recently closed first: a bound on its cost. */
export const maxNeverPickedUpPerCycle = 200;

/**
 * Execution workflows that closed without any workflow task of theirs completing: the first one
 * sets LifelinePhase (and admission writes the row before it completes), so a closed execution
 * without a phase was timed out (Temporal's workflow execution timeout), terminated or cancelled
 * before any worker ran it. Only operators Temporal documents for Temporal Cloud.
 */
export function closedNeverPickedUpQuery(since: Date, until?: Date): string {
  return [
    `WorkflowType = '${executionWorkflowType}'`,
    `ExecutionStatus != 'Running'`,
    `CloseTime > '${since.toISOString()}'`,
    ...(until ? [`CloseTime < '${until.toISOString()}'`] : []),
    ...notPickedUpConditions,
  ].join(' AND ');
}

/**
 * Writes the terminal row of every execution whose workflow closed before any worker picked it up
 * (a task queue nobody polled until Temporal's execution timeout; Terminate in the UI), which no
 * workflow code will ever write: the row admission would have written, from the start event's
 * input (decoded with the client's payload codec), then `timed_out`/`cancelled` with error kind
 * `never_picked_up` (actor `reconciler`). Each candidate's history proves that no workflow task
 * completed; a row that exists (a worker admitted it after all) is left to the live-row passes.
 */
export async function recordNeverPickedUp(cycle: Cycle, graceSeconds: number): Promise<void> {
  const { deps, dryRun, report } = cycle;
  const since = new Date(deps.clock() - neverPickedUpLookbackSeconds * 1000);
  // Closed within the grace: the operator's stop that terminated it writes its row (with the reason) a moment later.
  const until = graceSeconds > 0 ? new Date(deps.clock() - graceSeconds * 1000) : undefined;
  const candidates: { executionId: string; agent?: string }[] = [];
  try {
    for await (const workflow of deps.workflows.list({
      query: closedNeverPickedUpQuery(since, until),
      pageSize: maxNeverPickedUpPerCycle,
    })) {
      candidates.push({ executionId: workflow.workflowId, agent: workflow.typedSearchAttributes.get(searchAttributes.agent) });
      if (candidates.length >= maxNeverPickedUpPerCycle) break;
    }
  } catch (err) {
    deps.repeatedWarnings.warn(
      deps.log,
      'never-picked-up',
      { err: (err as Error).message },
      'reconciler could not list executions that closed before any worker picked them up',
    );
    return;
  }
  if (candidates.length === 0) return;
  // Executions of agents this database does not know (another Lifeline sharing the namespace) are not its rows: not even described.
  const agents = new Set((await deps.agents.list({ withRemoved: true })).map((a) => a.name));
  const rows = await deps.executions.statuses(candidates.map((c) => c.executionId));
  const rowless = candidates
    .filter((c) => !rows.has(c.executionId) && (c.agent === undefined || agents.has(c.agent)))
    .map((c) => c.executionId);
  await forEachConcurrently(rowless, parallelChecks, async (executionId) => {
    try {
      report.workflowsDescribed += 1;
      const workflow = await readExecutionWorkflow(deps.workflows, executionId);
      if (!workflow || workflow.pickedUp || workflow.status === 'PAUSED') return;
      const state = workflow.status as WorkflowState;
      if (isWorkflowOpen(state)) return;
      const outcome = outcomeForNeverPickedUp(state, workflow.taskQueue);
      // Another Lifeline's execution in the same namespace, or an agent since removed: not this database's row.
      const agent = workflow.input?.agent;
      if (!agent || !agents.has(agent)) {
        deps.log.debug({ executionId, agent, why: workflow.inputError }, 'no row to record for an execution no worker picked up');
        return;
      }
      if (!dryRun) {
        const recorded = await recordNeverAdmittedEnd(
          { agents: deps.agents, recordNeverAdmitted: deps.executions.recordNeverAdmitted },
          workflow,
          {
            outcome,
            actor: 'reconciler',
            reason: `workflow ${state}: ${outcome.error}`,
            defaultTimeoutSeconds: deps.settings.execution.defaultTimeoutSeconds,
          },
        );
        if (!recorded.written) {
          deps.log.debug({ executionId, why: recorded.why }, 'no row recorded for an execution no worker picked up');
          return;
        }
        deps.metrics.recovered(`never_picked_up_${state.toLowerCase()}`);
        deps.metrics.executionFinished(agent, workflow.input?.tenant ?? defaultTenant, outcome.status, outcome.errorKind, undefined);
        await deps.alerter.send({
          kind: 'execution_recovered',
          summary: `reconciler recorded ${executionId} as ${outcome.status}: ${outcome.error}`,
          executionId,
          agent,
          details: { workflow: state, taskQueue: workflow.taskQueue },
        });
      }
      report.recoveries.push({ executionId, agent, workflow: state, action: 'recorded', status: outcome.status });
    } catch (err) {
      cycle.fail(executionId, err);
    }
  });
}
