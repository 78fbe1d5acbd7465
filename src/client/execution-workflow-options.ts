import { executionLifetimeSeconds } from '../domain/execution-lifetime.js';
import { executionSearchAttributes, type ExecutionInput } from '../contract/execution-contract.js';

const excerpt = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * What every start of the execution workflow carries, whether the client starts it or a Temporal
 * Schedule fires it: the search attributes are set from the first moment, so a queued execution
 * is already findable in the UI, and the summary says what it runs.
 *
 * The workflow execution timeout ends, on Temporal's side, an execution that no worker ever picks
 * up (a task queue nobody polls): the reconciler then writes its terminal row. It is the longest
 * legitimate life of the workflow (execution-lifetime.ts), so it never cuts off a run whose agent
 * still works: the deadlines that end runs stay inside the workflow (DESIGN §4). A timeout the input
 * leaves to the agent's or the workers' default counts as the largest allowed: the agent's default
 * may change before a worker admits the execution, and a schedule's fires start long after it was made.
 */
export function executionWorkflowOptions(input: ExecutionInput, taskQueue: string) {
  return {
    taskQueue,
    // Milliseconds, as Temporal durations given as numbers are.
    workflowExecutionTimeout: executionLifetimeSeconds(input) * 1000,
    typedSearchAttributes: executionSearchAttributes(input),
    staticSummary: `${input.agent}: ${excerpt(input.prompt.replace(/\s+/g, ' '), 80)}`,
    staticDetails: [
      `**agent** ${input.agent}`,
      `**trigger** ${input.trigger}${input.scheduleId ? ` (schedule ${input.scheduleId})` : ''}`,
      `**timeout** ${input.timeoutSeconds ? `${input.timeoutSeconds} s` : 'agent default'}`,
      `**busy policy** ${input.busyPolicy}`,
      `**prompt** ${excerpt(input.prompt)}`,
    ].join('\n\n'),
  };
}
