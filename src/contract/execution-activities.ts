import type { Actor, ExecutionStatus, TerminalOutcome } from '../domain/execution-status.js';
import type { AgentRunSummary, ExecutionPlan } from '../domain/execution-types.js';
import type { ExecutionInput } from './execution-contract.js';

/**
 * The activities the execution workflow calls, as it sees them: their inputs and results. The
 * activities implement this (activities/execution-activities.ts); the workflow knows only this.
 */
export interface ExecutionActivities {
  /** Records the `queued` row and makes one try for a capacity slot; the plan says where that left it. */
  admit(input: ExecutionInput & { executionId: string }): Promise<ExecutionPlan>;
  /** For executions admitted before the run activity marked its own row running: replay needs it. */
  markRunning(input: { executionId: string; agent: string }): Promise<ExecutionStatus>;
  /** Waits for a capacity slot until the queue timeout. */
  acquireSlot(req: SlotRequest): Promise<true>;
  /** Starts the agent's run, or re-attaches to it, and follows it to its end. */
  runAgent(input: RunAgentInput): Promise<AgentRunSummary>;
  /** Stops the agent process if it may still run; the agent's record of the ended run, if it has one. */
  stopAgent(input: StopAgentInput): Promise<StoppedRun | undefined>;
  /** Output, terminal status, slot release and announcement, in that order. */
  conclude(input: ConcludeInput): Promise<Conclusion>;
  /** The slot of an execution concluded earlier, once its agent process is confirmed gone. */
  releaseSlot(input: { executionId: string; agent: string }): Promise<void>;
}

export interface SlotRequest {
  agent: string;
  executionId: string;
  capacity: number;
  /** Absent for executions admitted before tenants: \`default\`. */
  tenant?: string;
}

export interface RunAgentInput {
  executionId: string;
  agent: string;
  prompt: string;
  timeoutSeconds: number;
  metadata?: Record<string, unknown>;
  /**
   * No progress reported for this long ends the run as agent_stalled; null: no idle timeout. Absent:
   * the execution set none and its row says whether its agent's default applies.
   */
  idleTimeoutSeconds?: number | null;
  /** A reported cost in USD above this ends the run as budget_exceeded; absent: no budget. */
  maxCostUsd?: number;
  /** The tenant whose spent budget may stop it (tenant_over_budget); absent before tenants. */
  tenant?: string;
}

/** The agent's record of a run a stop found ended: the run's own result when it ended by itself. */
export interface StoppedRun extends AgentRunSummary {
  finishedAt?: string;
}

export interface StopAgentInput {
  executionId: string;
  agent: string;
  /** How long to wait for the process to end after asking it to stop. */
  waitSeconds: number;
}

export interface ConcludeInput {
  executionId: string;
  agent: string;
  /** Absent when the row left the workflow's hands (the reconciler ended it): only the slot is released. */
  outcome?: TerminalOutcome;
  actor: Actor;
  reason?: string;
  /** The agent has the run's output (it finished, or its stop was confirmed): copy it into the row first. */
  storeOutput: boolean;
  /** False while the agent process may still run: the workflow releases the slot once it is gone. */
  releaseSlot?: boolean;
}

export interface Conclusion {
  /** The row's status afterwards: the outcome's, or the one someone else wrote first. */
  status: ExecutionStatus | undefined;
  /** This call wrote the terminal status. */
  applied: boolean;
}
