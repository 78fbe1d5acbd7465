import { z } from 'zod';
import { agentRunStatuses, type AgentRunStatus } from '../domain/agent-run-status.js';
import { reportedUsage } from '../domain/usage.js';

/**
 * The agent HTTP protocol (DESIGN §8). Every response an agent sends is parsed with these
 * schemas at the boundary, so a malformed agent is an `agent_protocol_error`, never a crash.
 */

/**
 * Long poll (protocol 2): `GET /executions/{id}?waitSeconds=N` answers when the run ends, or after N
 * seconds (at most `maxWaitSeconds`) with its state then. An agent that implements it says so with
 * this response header (`true`) on every start and `GET /executions/{id}`; without it, Lifeline polls as before.
 */
export const longPollHeader = 'lifeline-long-poll';
export const maxWaitSeconds = 60;

/**
 * Instance (protocol 2): when this agent's memory of its runs began (its process started), as
 * ISO 8601, on every response. A run a retry finds unknown to an agent that started after the run
 * may have been sent to it was lost in a restart, and is never started again; an agent up since
 * before then deduplicates a start by id. Without it, Lifeline cannot tell the two apart and starts
 * the run (idempotent by id on one instance).
 */
export const agentStartedAtHeader = 'lifeline-agent-started-at';

/**
 * Live output (protocol 2): `GET /executions/{id}?outputTail=true` adds `outputTail`, the last bytes of
 * the run's output (at most `maxOutputTailBytes`, starting on a character), ending where
 * `outputBytes` ends. An agent that ignores the parameter leaves it out, and Lifeline shows no live output.
 */
export const outputTailParam = 'outputTail';
export const maxOutputTailBytes = 64 * 1024;

/**
 * Budget (protocol 2): `GET /executions/{id}?waitSeconds=N&costAboveUsd=X` also answers as soon as
 * the run reports a cost in USD above X, so an execution's budget is enforced within one usage
 * report instead of one long poll. An agent that ignores the parameter answers as before.
 */
export const costAboveParam = 'costAboveUsd';

export const startExecutionRequest = z.object({
  id: z.string().min(1).max(200),
  prompt: z.string().min(1),
  timeoutSeconds: z.number().int().positive(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type StartExecutionRequest = z.input<typeof startExecutionRequest>;

/** An agent's error text is kept up to this many characters; it flows into history, the row, the audit and alerts. */
export const maxAgentErrorChars = 8 * 1024;

/** A timestamp an agent sends: ISO 8601 is far shorter; anything longer is not one. */
const agentTime = z.string().max(64);

export const agentExecution = z.object({
  id: z.string().max(200),
  status: z.enum(agentRunStatuses),
  /** Present once the run has finished (it can be megabytes; never sent while running). */
  output: z.string().optional(),
  /** Total bytes the process wrote, including what the agent dropped past its own cap. */
  outputBytes: z.number().int().nonnegative().optional(),
  error: z
    .string()
    .transform((text) => (text.length > maxAgentErrorChars ? `${text.slice(0, maxAgentErrorChars)}… [truncated by lifeline]` : text))
    .optional(),
  exitCode: z.number().int().nullable().optional(),
  pid: z.number().int().positive().optional(),
  startedAt: agentTime,
  /**
   * Progress (protocol 2): when the run last made progress (its last output; its start before any).
   * An agent that reports it may be judged stalled by an execution's idle timeout; one that does
   * not never is.
   */
  lastProgressAt: agentTime.optional(),
  /** Usage (protocol 2): the run's totals so far, while it runs and once it ended (src/domain/usage.ts). */
  usage: reportedUsage,
  /** Only when asked for with `?outputTail=true`: the output's last bytes, ending at `outputBytes`. */
  outputTail: z.string().max(maxOutputTailBytes).optional(),
  finishedAt: agentTime.optional(),
});
export type AgentExecution = z.infer<typeof agentExecution>;

export const agentExecutionList = z.object({ executions: z.array(agentExecution) });

export function isAgentRunFinished(status: AgentRunStatus): boolean {
  return status !== 'running';
}
