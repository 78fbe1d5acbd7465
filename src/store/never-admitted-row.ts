import type { Actor, TerminalOutcome } from '../domain/execution-status.js';
import type { ExecutionWorkflow } from '../temporal-api/execution-workflow.js';
import type { AgentStore } from './agent-store.js';
import type { NeverAdmittedExecution, TransitionResult } from './execution-store.js';
import { newExecutionRow } from './new-execution-row.js';

/** Where the terminal row of an execution no worker admitted is written: the agents (for its defaults) and the rows. */
export interface NeverAdmittedStores {
  agents: Pick<AgentStore, 'get'>;
  recordNeverAdmitted: (execution: NeverAdmittedExecution) => Promise<TransitionResult>;
}

/** How the terminal row of an execution no worker admitted went: written, or why not. */
export type NeverAdmittedRecord = { written: true; result: TransitionResult } | { written: false; why: string };

/**
 * Writes the terminal row of an execution whose workflow no worker ever ran (a stop before any
 * worker picked it up, a Temporal timeout, a terminate): the row admission would have written,
 * from its start event's input, then its ending. Nothing is written for an agent this database
 * does not know (another Lifeline's execution in the same namespace, or an agent since removed).
 */
export async function recordNeverAdmittedEnd(
  stores: NeverAdmittedStores,
  workflow: ExecutionWorkflow,
  end: { outcome: TerminalOutcome; actor: Actor; reason: string; defaultTimeoutSeconds: number },
): Promise<NeverAdmittedRecord> {
  const { input } = workflow;
  if (!input) return { written: false, why: workflow.inputError ?? 'its input could not be read' };
  const agent = await stores.agents.get(input.agent);
  if (!agent) return { written: false, why: `its agent "${input.agent}" is not registered here` };
  const result = await stores.recordNeverAdmitted({
    row: newExecutionRow(workflow.executionId, input, agent, end.defaultTimeoutSeconds),
    acceptedAt: workflow.startedAt,
    to: end.outcome.status,
    change: { actor: end.actor, reason: end.reason, outcome: end.outcome },
  });
  return result.applied ? { written: true, result } : { written: false, why: `its row is already ${result.current ?? 'gone'}` };
}
