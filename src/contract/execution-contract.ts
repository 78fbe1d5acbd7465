import type { SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ErrorKind, ExecutionStatus, TerminalStatus } from '../domain/execution-status.js';
import type { BusyPolicy } from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';
import { defaultTenant } from '../domain/tenants.js';

/**
 * The execution workflow's contract with everything that starts, signals or queries it (the client,
 * schedules, the CLI, the reconciler, tests): its input and result, its messages and the search
 * attributes it carries. No I/O here, so the workflow bundle and the client share it. Start the
 * workflow by `executionWorkflowType`, typed with `typeof agentExecution` (a type-only import).
 */

/**
 * The execution workflow's type name: what any client, in any language, starts. By name rather than
 * by function, so that a client never loads the workflow's code.
 */
export const executionWorkflowType = 'agentExecution';

/**
 * The workflow's input. No secrets: it is stored in Temporal history. The prompt is bounded by the
 * start-time validation (src/client/execution-input.ts). The execution id is the workflow id, so a
 * Temporal Schedule (which appends the fire time to it) gives each fire its own execution.
 */
export interface ExecutionInput {
  agent: string;
  /**
   * The team it runs for: its share of contended agents, its limits and its budgets (DESIGN:
   * Tenants). Absent: `default`.
   */
  tenant?: string;
  prompt: string;
  /** The run's own timeout; when absent the agent's default applies, then Lifeline's. */
  timeoutSeconds?: number;
  busyPolicy: BusyPolicy;
  queueTimeoutSeconds?: number;
  /**
   * No progress reported by the agent for this long stops the run: `timed_out/agent_stalled`. Off
   * when absent, and for agents that report no progress.
   */
  idleTimeoutSeconds?: number;
  /**
   * A reported cost in USD above this stops the run: `failed/budget_exceeded`. Needs an agent that
   * reports its cost in USD; others run unchecked.
   */
  maxCostUsd?: number;
  /** Who started it: "api", "cli", "schedule", "demo"... */
  trigger: string;
  scheduleId?: string;
  metadata?: Record<string, unknown>;
}

export interface ExecutionResult {
  executionId: string;
  status: TerminalStatus;
  errorKind?: ErrorKind;
  error?: string;
}

/** Where the workflow is, for operators: the `state` query and the UI's current details. */
export type ExecutionPhase = 'recording' | 'acquiring_slot' | 'awaiting_worker' | 'running' | 'finalizing' | 'stopping' | 'done';

/** The live state returned by the workflow's `state` query. */
export interface ExecutionLiveState {
  executionId: string;
  agent: string;
  phase: ExecutionPhase;
  status: ExecutionStatus;
  stopReason?: string;
  errorKind?: ErrorKind;
}

/** The live state of an execution, for operators and the CLI. */
export const stateQuery = defineQuery<ExecutionLiveState>('state');

/** Stops an execution with an operator's reason; the row ends `cancelled` with actor = operator. */
export const stopSignal = defineSignal<[{ reason: string }]>('stop');

/**
 * Sent by the run activity once the agent has the run (started or re-attached): the row is
 * `running` from then, and the workflow leaves `awaiting_worker` for `running`.
 */
export const agentStartedSignal = defineSignal('agentStarted');

/**
 * The search attributes an execution carries from its start: set by Lifeline's client and schedules
 * at start (so a queued execution is findable at once), and by the workflow itself for those a
 * start some other way left out. The workflow then upserts the status on every transition.
 * Executions started before tenants carry no tenant attribute: their replay leaves it out.
 */
export function executionSearchAttributes(input: ExecutionInput, withTenant = true): SearchAttributePair[] {
  return [
    { key: searchAttributes.agent, value: input.agent },
    ...(withTenant ? [{ key: searchAttributes.tenant, value: input.tenant ?? defaultTenant }] : []),
    { key: searchAttributes.status, value: 'queued' },
    { key: searchAttributes.trigger, value: input.trigger },
    ...(input.scheduleId ? [{ key: searchAttributes.schedule, value: input.scheduleId }] : []),
  ];
}
