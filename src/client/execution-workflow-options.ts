import type { SearchAttributePair } from '@temporalio/common';
import type { ExecutionInput } from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';

/** The registered name of the execution workflow (src/workflows/agent-execution.ts). */
export const agentExecutionWorkflowType = 'agentExecution';

const excerpt = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * What every start of the execution workflow carries, whether the client starts it or a Temporal
 * Schedule fires it: the search attributes are set from the first moment, so a queued execution
 * is already findable in the UI, and the summary says what it runs.
 */
export function executionWorkflowOptions(input: ExecutionInput, taskQueue: string) {
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: searchAttributes.agent, value: input.agent },
    { key: searchAttributes.status, value: 'queued' },
    { key: searchAttributes.trigger, value: input.trigger },
    ...(input.scheduleId ? [{ key: searchAttributes.schedule, value: input.scheduleId }] : []),
  ];
  return {
    taskQueue,
    args: [input] as [ExecutionInput],
    typedSearchAttributes,
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
