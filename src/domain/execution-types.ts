import type { AgentRunStatus } from '../agent/protocol.js';
import type { ExecutionStatus, ErrorKind, TerminalStatus } from './execution-status.js';

export type BusyPolicy = 'skip' | 'queue';

/**
 * The workflow's input. No secrets: it is stored in Temporal history. The prompt is bounded by the
 * start-time validation (src/client/execution-input.ts). The execution id is the workflow id, so a
 * Temporal Schedule (which appends the fire time to it) gives each fire its own execution.
 */
export interface ExecutionInput {
  agent: string;
  prompt: string;
  /** The run's own timeout; when absent the agent's default applies, then Lifeline's. */
  timeoutSeconds?: number;
  busyPolicy: BusyPolicy;
  queueTimeoutSeconds?: number;
  /** Who started it: "api", "cli", "schedule", "demo"... */
  trigger: string;
  scheduleId?: string;
  metadata?: Record<string, unknown>;
}

/** What the first activity resolved for this execution: recorded once in history, so replay is deterministic. */
export interface ExecutionPlan {
  /** The row's status when the workflow (re)started; terminal means there is nothing left to do. */
  status: ExecutionStatus;
  capacity: number;
  timeoutSeconds: number;
  queueTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  stopWaitSeconds: number;
  runMaxAttempts: number;
}

/** The small summary the run activity returns; the output itself goes to Postgres, not history. */
export interface AgentRunSummary {
  status: Exclude<AgentRunStatus, 'running'>;
  exitCode: number | null;
  error: string | null;
  outputBytes: number;
}

/** What the run activity records in its heartbeat, so a retried attempt re-attaches instead of starting again. */
export interface RunHeartbeat {
  started: true;
  agentStatus: AgentRunStatus;
  pid?: number;
  polls: number;
}

export type ExecutionPhase = 'recording' | 'acquiring_slot' | 'starting' | 'running' | 'finalizing' | 'done';

/** The live state returned by the workflow's `state` query. */
export interface ExecutionLiveState {
  executionId: string;
  agent: string;
  phase: ExecutionPhase;
  status: ExecutionStatus;
  stopReason?: string;
  errorKind?: ErrorKind;
}

export interface ExecutionResult {
  executionId: string;
  status: TerminalStatus;
  errorKind?: ErrorKind;
  error?: string;
}
