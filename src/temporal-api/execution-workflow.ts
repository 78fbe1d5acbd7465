import { WorkflowNotFoundError, type WorkflowClient, type WorkflowExecutionStatusName } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { maxTimeoutSeconds } from '../domain/execution-lifetime.js';
import type { ExecutionInput } from '../contract/execution-contract.js';
import { executionWorkflowType } from '../contract/execution-contract.js';

// A CommonJS module whose exports Node cannot name statically: imported whole.
const { PendingWorkflowTaskState } = proto.temporal.api.enums.v1;

/**
 * What Temporal knows of an execution's workflow, for an execution that has no row: until a worker
 * runs its first workflow task (whose admission writes the row), Temporal is the only place it is.
 */
export interface ExecutionWorkflow {
  executionId: string;
  runId: string;
  /** Temporal's status: RUNNING, TIMED_OUT, TERMINATED... */
  status: WorkflowExecutionStatusName;
  taskQueue: string;
  startedAt: Date;
  closedAt?: Date;
  /** The input of its start event, decoded with the client's data converter (the payload codec's keys). */
  input?: ExecutionInput;
  /** Why the input could not be read, when it could not. */
  inputError?: string;
  /**
   * A workflow task of it completed: workflow code ran (admission may have written its row and
   * taken a slot). False is proven from its history: no WorkflowTaskCompleted event.
   */
  pickedUp: boolean;
  /** A worker holds its workflow task right now: it is being picked up. */
  taskInFlight: boolean;
}

/** Pages of history read to prove that no workflow task completed; a longer history counts as picked up. */
const maxHistoryPages = 5;

/**
 * The execution's workflow (the workflow id is the execution id), from a describe and the first
 * events of its history. Undefined when Temporal has no such workflow, or it is not an execution.
 */
export async function readExecutionWorkflow(workflows: WorkflowClient, executionId: string): Promise<ExecutionWorkflow | undefined> {
  let description;
  try {
    description = await workflows.getHandle(executionId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (description.type !== executionWorkflowType) return undefined;
  const history = await historyFacts(workflows, executionId, description.runId);
  const { input, inputError } = await decodedInput(workflows, history.startInput);
  return {
    executionId,
    runId: description.runId,
    status: description.status.name,
    taskQueue: description.taskQueue,
    startedAt: description.startTime,
    closedAt: description.closeTime,
    input,
    inputError,
    pickedUp: history.pickedUp,
    taskInFlight: description.raw.pendingWorkflowTask?.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED,
  };
}

/** No worker ever ran it and none is running it now: no row, no capacity slot, no agent process exists. */
export function neverPickedUp(workflow: ExecutionWorkflow): boolean {
  return !workflow.pickedUp && !workflow.taskInFlight;
}

async function historyFacts(
  workflows: WorkflowClient,
  workflowId: string,
  runId: string,
): Promise<{ startInput?: Payload[]; pickedUp: boolean }> {
  let startInput: Payload[] | undefined;
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < maxHistoryPages; page += 1) {
    const response = await workflows.workflowService.getWorkflowExecutionHistory({
      namespace: workflows.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 100,
      nextPageToken,
    });
    for (const event of response.history?.events ?? []) {
      startInput ??= event.workflowExecutionStartedEventAttributes?.input?.payloads ?? undefined;
      if (event.workflowTaskCompletedEventAttributes) return { startInput, pickedUp: true };
    }
    if (!response.nextPageToken?.length) return { startInput, pickedUp: false };
    nextPageToken = response.nextPageToken;
  }
  // Pages of events without a completed workflow task (signals piling up, say): the safe side.
  return { startInput, pickedUp: true };
}

/** The start event's first argument, through the codecs in reverse (as the SDK decodes), then the payload converter. */
async function decodedInput(
  workflows: WorkflowClient,
  payloads: Payload[] | undefined,
): Promise<{ input?: ExecutionInput; inputError?: string }> {
  const first = payloads?.[0];
  if (!first) return { inputError: 'its start event carries no input' };
  const { payloadCodecs, payloadConverter } = workflows.options.loadedDataConverter;
  try {
    let decoded: Payload[] = [first];
    for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    const input = asExecutionInput(payloadConverter.fromPayload<unknown>(decoded[0]!));
    return input ? { input } : { inputError: 'its input is not an execution input (no agent or prompt)' };
  } catch (err) {
    return { inputError: `its input could not be decoded: ${(err as Error).message}` };
  }
}

const isWholeSeconds = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= max;

/**
 * An execution input as a row can record it, from a start that may not have been Lifeline's own:
 * an agent and a prompt are required; what else does not fit is left out or given its default.
 */
function asExecutionInput(value: unknown): ExecutionInput | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.agent !== 'string' || typeof v.prompt !== 'string') return undefined;
  const metadata = v.metadata && typeof v.metadata === 'object' && !Array.isArray(v.metadata) ? v.metadata : undefined;
  return {
    agent: v.agent,
    prompt: v.prompt,
    ...(isWholeSeconds(v.timeoutSeconds, maxTimeoutSeconds) && { timeoutSeconds: v.timeoutSeconds }),
    busyPolicy: v.busyPolicy === 'skip' ? 'skip' : 'queue',
    ...(isWholeSeconds(v.queueTimeoutSeconds, Number.MAX_SAFE_INTEGER) && { queueTimeoutSeconds: v.queueTimeoutSeconds }),
    ...(typeof v.idleTimeoutSeconds === 'number' && { idleTimeoutSeconds: v.idleTimeoutSeconds }),
    ...(typeof v.maxCostUsd === 'number' && { maxCostUsd: v.maxCostUsd }),
    trigger: typeof v.trigger === 'string' && v.trigger !== '' ? v.trigger : 'unknown',
    ...(typeof v.scheduleId === 'string' && { scheduleId: v.scheduleId }),
    ...(metadata && { metadata: metadata as Record<string, unknown> }),
  };
}
