import type { AgentRunStatus } from './agent-run-status.js';
import type { ExecutionStatus } from './execution-status.js';

export type BusyPolicy = 'skip' | 'queue';

/** What the first activity resolved for this execution: recorded once in history, so replay is deterministic. */
export interface ExecutionPlan {
  /** The row's status when the workflow (re)started; terminal means there is nothing left to do. */
  status: ExecutionStatus;
  /**
   * The execution holds its capacity slot (taken on admission, or its row already running). Absent in
   * plans recorded before the row stayed queued until the agent had the run: their status says it.
   */
  slotHeld?: boolean;
  capacity: number;
  timeoutSeconds: number;
  queueTimeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  stopWaitSeconds: number;
  /**
   * The tenant it runs for, with what its activities tell Temporal's dispatch (DESIGN: Tenants).
   * Absent in plans recorded before tenants: those run as \`default\`, with no Temporal priority.
   */
  tenant?: PlannedTenant;
  /**
   * The idle timeout its row records (null: none), handed to the run so that it need not read the
   * row. Absent in plans recorded before it: their run reads it.
   */
  idleTimeoutSeconds?: number | null;
  /** Its tenant had spent a budget (the message says which): the execution ends \`skipped\` without a slot. */
  overBudget?: string;
  /** Input the row could record only altered (a NUL character): the execution fails `invalid_input` with this reason. */
  rejected?: string;
}

export interface PlannedTenant {
  name: string;
  priority: number;
  weight: number;
}

/** The small summary the run activity returns; the output itself goes to Postgres, not history. */
export interface AgentRunSummary {
  status: Exclude<AgentRunStatus, 'running'>;
  exitCode: number | null;
  error: string | null;
  outputBytes: number;
  /** The run's last reported cost, when its agent reported one in USD; absent otherwise. */
  costUsd?: number;
  /**
   * When the run ended, by the agent's clock (ISO 8601), as the agent reported it. A stop or Cancel
   * requested earlier wins over the result (DESIGN.md, "A stop wins over a late result").
   */
  finishedAt?: string;
  /**
   * The run activity already stored the run's output and final usage: the agent's first answer had
   * the run ended, output and all, so the conclusion need not ask the agent again.
   */
  outputStored?: boolean;
}

/** What a failed run tells the workflow beside its type. */
export interface RunFailureDetails {
  processStarted: boolean;
}

/** What the run activity records in its heartbeat, so a retried attempt re-attaches instead of starting again. */
export interface RunHeartbeat {
  started: true;
  agentStatus: AgentRunStatus;
  pid?: number;
  polls: number;
  /** When the agent stopped answering (epoch ms), if it has not answered since. */
  unreachableSince?: number;
  /** The run's last progress report and when it was seen, so a re-attaching attempt times the idle run from it. */
  progress?: ProgressMark;
}

/** A run's progress report as the run activity last saw it change. */
export interface ProgressMark {
  /** The agent's last progress time and output bytes, together. */
  report: string;
  /** When a worker saw this report first (epoch ms, the worker's clock). */
  seenAt: number;
}
