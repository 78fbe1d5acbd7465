import { z } from 'zod';
import { searchAttributes } from '../domain/search-attributes.js';
import { executionWorkflowType } from './execution-contract.js';
import { executionInputSchema, executionLiveStateSchema, executionResultSchema, stopSignalSchema } from './execution-contract-schemas.js';

/**
 * contract/execution.schema.json: the workflow's messages as JSON Schema (draft 2020-12), with what
 * else a client in another language needs to start one: its type name, its query and signal names,
 * the search attributes to set at start. As inputs: a field with a default (`busyPolicy`, `trigger`)
 * may be left out.
 */
export function executionContractJsonSchema() {
  // Each definition without its own `$schema`: the document's applies.
  const schema = (s: z.ZodType) => {
    const { $schema: _, ...definition } = z.toJSONSchema(s, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
    return definition;
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Lifeline execution workflow contract',
    description:
      'Start the workflow type below on the task queue of Lifeline\'s workers (LIFELINE_TASK_QUEUE, default "lifeline") with one argument, an ExecutionInput, as JSON; the workflow id is the execution id. Fields are only ever added, and added fields are optional; none is renamed or removed.',
    'x-lifeline': {
      workflowType: executionWorkflowType,
      query: { state: 'ExecutionLiveState' },
      signal: { stop: 'StopSignal' },
      result: 'ExecutionResult',
      searchAttributesAtStart: {
        [searchAttributes.agent.name]: 'Keyword: the input agent',
        [searchAttributes.tenant.name]: 'Keyword: the input tenant, or "default" when it names none',
        [searchAttributes.status.name]: 'Keyword: "queued"',
        [searchAttributes.trigger.name]: 'Keyword: the input trigger',
        [searchAttributes.schedule.name]: 'Keyword: the input scheduleId, when there is one',
      },
      executionId: 'the workflow id: 1-200 characters of letters, digits and . _ : @ -, starting with a letter or digit',
    },
    $defs: {
      ExecutionInput: schema(executionInputSchema),
      ExecutionResult: schema(executionResultSchema),
      ExecutionLiveState: schema(executionLiveStateSchema),
      StopSignal: schema(stopSignalSchema),
    },
  };
}
