import { executionSearchAttributes, type ExecutionInput } from '../workflows/execution-contract.js';

const excerpt = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * What every start of the execution workflow carries, whether the client starts it or a Temporal
 * Schedule fires it: the search attributes are set from the first moment, so a queued execution
 * is already findable in the UI, and the summary says what it runs.
 */
export function executionWorkflowOptions(input: ExecutionInput, taskQueue: string) {
  return {
    taskQueue,
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
