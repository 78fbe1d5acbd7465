import { sleep } from '@temporalio/workflow';
import { agentExecution as released } from '../../src/workflows/agent-execution.js';
import type { ExecutionInput, ExecutionResult } from '../../src/contract/execution-contract.js';

export { reconcileWorkflow } from '../../src/workflows/index.js';

/**
 * Lifeline's workflows with one extra step in front of the execution workflow: a change of
 * workflow code, for rollout drills (the chaos run's code change, the versioning and stuck-execution
 * tests). Executions started on the released code cannot replay it (TMPRL1100), so it must ship as
 * a new build.
 */
export async function agentExecution(input: ExecutionInput): Promise<ExecutionResult> {
  await sleep('10 ms');
  return released(input);
}
