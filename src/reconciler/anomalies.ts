import type { WorkflowClient } from '@temporalio/client';
import { searchAttributes } from '../domain/search-attributes.js';
import type { Cycle } from './cycle.js';
import { holdsSlot, type LeaseHolders, type LiveRow } from './live-rows.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

/**
 * Beyond the full-sweep interval, how much further back a regular cycle looks: visibility lagging
 * behind a close, the clocks of this worker and of Temporal disagreeing, and the full sweep's own
 * duration all shift what the last full sweep saw against what this query sees.
 */
const lookbackMarginSeconds = 300;

/**
 * Execution workflows that closed without publishing a terminal status. The workflow sets
 * LifelineStatus to the terminal status right after its terminal write, so one that still says
 * queued or running was closed where no workflow code ran: Terminate, a Temporal execution
 * timeout.
 */
async function closedWithoutTerminalStatus(workflows: WorkflowClient, since: Date): Promise<Set<string>> {
  const query = [
    `WorkflowType = '${executionWorkflowType}'`,
    `ExecutionStatus != 'Running'`,
    `${searchAttributes.status.name} IN ('queued', 'running')`,
    `CloseTime >= '${since.toISOString()}'`,
  ].join(' AND ');
  const ids = new Set<string>();
  for await (const workflow of workflows.list({ query })) ids.add(workflow.workflowId);
  return ids;
}

/**
 * The live rows a regular cycle describes: those whose workflow visibility lists as closed without
 * a terminal status, and rows holding a slot whose lease Redis lost. A healthy execution is neither, so a
 * cycle over healthy work asks Temporal nothing one by one. A regular cycle runs only while the
 * last full sweep's turn lasts (the interval), and its window reaches back past that sweep's
 * start: whatever closed since the sweep looked is in it. What neither signal can show (a missing
 * workflow) waits for the next full sweep. Undefined when visibility cannot be read: the cycle
 * then sweeps in full.
 */
export async function anomalousRows(cycle: Cycle, live: LiveRow[], leaseHolders: LeaseHolders): Promise<LiveRow[] | undefined> {
  const { deps } = cycle;
  const since = new Date(Date.now() - (deps.fullSweeps.intervalSeconds + lookbackMarginSeconds) * 1000);
  let closed: Set<string>;
  try {
    closed = await closedWithoutTerminalStatus(deps.workflows, since);
  } catch (err) {
    deps.repeatedWarnings.warn(
      deps.log,
      'visibility',
      { err: (err as Error).message },
      'reconciler could not query Temporal visibility; sweeping in full',
    );
    return undefined;
  }
  return live.filter((row) => closed.has(row.id) || (holdsSlot(row) && !leaseHolders.get(row.agent)?.has(row.id)));
}
