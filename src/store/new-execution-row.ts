import { invalidRunLimits } from '../domain/run-limits.js';
import { storableJson, storableText } from '../domain/storable-text.js';
import type { ExecutionInput } from '../contract/execution-contract.js';
import type { AgentRecord } from './agent-store.js';
import type { NewExecution } from './execution-store.js';

/**
 * The row an execution is recorded with: each text made storable (a NUL becomes U+FFFD), the
 * timeout resolved (the execution's own, else its agent's default, else Lifeline's), and the idle
 * timeout the run is judged by (its own, else its agent's default). Limits out of range are left
 * out: such an execution fails `invalid_input`, and its row must still be written. Admission and the
 * terminal row of an execution no worker admitted both write it.
 */
export function newExecutionRow(
  executionId: string,
  input: ExecutionInput,
  agent: Pick<AgentRecord, 'defaultTimeoutSeconds' | 'defaultIdleTimeoutSeconds'>,
  defaultTimeoutSeconds: number,
): NewExecution {
  const limitsValid = invalidRunLimits(input).length === 0;
  return {
    id: executionId,
    agent: input.agent,
    tenant: input.tenant,
    prompt: storableText(input.prompt),
    trigger: storableText(input.trigger),
    scheduleId: input.scheduleId === undefined ? undefined : storableText(input.scheduleId),
    busyPolicy: input.busyPolicy,
    timeoutSeconds: input.timeoutSeconds ?? agent.defaultTimeoutSeconds ?? defaultTimeoutSeconds,
    idleTimeoutSeconds: limitsValid ? (input.idleTimeoutSeconds ?? agent.defaultIdleTimeoutSeconds ?? undefined) : undefined,
    maxCostUsd: limitsValid ? input.maxCostUsd : undefined,
    metadata: input.metadata === undefined ? undefined : (storableJson(input.metadata) as Record<string, unknown>),
  };
}
