import { ApplicationFailure } from '@temporalio/activity';
import type { WorkflowClient } from '@temporalio/client';
import type { ConcludeInput, Conclusion } from '../contract/execution-activities.js';
import type { ExecutionActivities } from '../contract/execution-activities.js';
import { closedBeforeStart } from '../activities/mark-running.js';
import type { RunAgentInput, StopAgentInput, StoppedRun } from '../contract/execution-activities.js';
import type { SlotRequest } from '../contract/execution-activities.js';
import { loadConfig } from '../config/config.js';
import { canTransition, isTerminal, type ExecutionStatus, type TerminalOutcome } from '../domain/execution-status.js';
import type { AgentRunSummary, ExecutionPlan } from '../domain/execution-types.js';
import { agentStartedSignal, type ExecutionInput } from '../contract/execution-contract.js';

/** A row as the scripted activities keep it in memory. */
export interface ScriptedRow {
  agent: string;
  status: ExecutionStatus;
  outcome?: TerminalOutcome;
  actor?: string;
}

/** One activity call, in order: what a test asserts the workflow asked for. */
export interface ActivityCall {
  activity: keyof ExecutionActivities;
  input: unknown;
}

export interface ActivityScript {
  /** Capacity slots per agent (default 1): admissions beyond it queue (or skip). */
  capacity?: number;
  /** What admission resolves, beyond the in-memory row and slot: Lifeline's defaults unless given. */
  plan?: Partial<Omit<ExecutionPlan, 'status' | 'slotHeld'>>;
  /** Rows that exist before the workflow starts, such as one an earlier run already ended. */
  rows?: Record<string, ScriptedRow>;
  /** Slots held before the workflow starts: agent → execution ids. */
  heldSlots?: Record<string, string[]>;
  /** Sends `agentStarted` as the real run activity does, so the workflow enters `running`. */
  workflows?: WorkflowClient;
  /** Replaces activities, given the in-memory ones to wrap or fall back on; the rest keep their behaviour. */
  override?: (defaults: ExecutionActivities) => Partial<ExecutionActivities>;
}

/** Lifeline's configuration defaults (900 s deadline, one-hour queue timeout...), as a worker without settings runs. */
const lifelineDefaults = loadConfig({}).execution;

const succeededRun: AgentRunSummary = { status: 'succeeded', exitCode: 0, error: null, outputBytes: 0 };

/**
 * In-memory stand-ins for the execution workflow's activities, for workflow tests (the SDK's own
 * pattern: a real Temporal server, a real worker, stubbed activities). Rows and slots live in maps
 * the test can read; by default a run succeeds at once. Each activity returns or fails at once,
 * because the time-skipping server skips time only while no activity runs: a wait for a slot that
 * never comes is a retryable failure with a one-minute retry delay, so the queue timeout passes
 * in skipped time.
 */
export function scriptedActivities(script: ActivityScript = {}) {
  const rows = new Map<string, ScriptedRow>(Object.entries(script.rows ?? {}));
  const slots = new Map<string, Set<string>>(Object.entries(script.heldSlots ?? {}).map(([agent, ids]) => [agent, new Set(ids)]));
  const calls: ActivityCall[] = [];
  const capacity = script.capacity ?? 1;
  const holders = (agent: string) => slots.get(agent) ?? slots.set(agent, new Set()).get(agent)!;
  const tryTake = (agent: string, executionId: string) => {
    const held = holders(agent);
    if (!held.has(executionId) && held.size >= capacity) return false;
    held.add(executionId);
    return true;
  };
  const move = (executionId: string, to: ExecutionStatus): ExecutionStatus | undefined => {
    const row = rows.get(executionId);
    if (row && canTransition(row.status, to)) row.status = to;
    return row?.status;
  };
  const defaults: ExecutionActivities = {
    admit: async (input: ExecutionInput & { executionId: string }) => {
      const row = rows.get(input.executionId) ?? { agent: input.agent, status: 'queued' };
      rows.set(input.executionId, row);
      const slotHeld = row.status === 'running' || (row.status === 'queued' && tryTake(input.agent, input.executionId));
      return {
        status: row.status,
        slotHeld,
        capacity,
        timeoutSeconds: input.timeoutSeconds ?? lifelineDefaults.defaultTimeoutSeconds,
        queueTimeoutSeconds: input.queueTimeoutSeconds ?? lifelineDefaults.queueTimeoutSeconds,
        heartbeatTimeoutSeconds: lifelineDefaults.heartbeatTimeoutSeconds,
        stopWaitSeconds: lifelineDefaults.stopWaitSeconds,
        ...script.plan,
      };
    },
    markRunning: async ({ executionId }: { executionId: string; agent: string }) => move(executionId, 'running') ?? 'running',
    acquireSlot: async ({ agent, executionId }: SlotRequest) => {
      if (tryTake(agent, executionId)) return true as const;
      throw ApplicationFailure.create({ type: 'slot_busy', message: `no capacity slot free on ${agent}`, nextRetryDelay: '1 minute' });
    },
    runAgent: async ({ executionId }: RunAgentInput) => {
      const status = move(executionId, 'running');
      if (status !== undefined && status !== 'running') throw closedBeforeStart(executionId, status);
      await script.workflows?.getHandle(executionId).signal(agentStartedSignal);
      return succeededRun;
    },
    stopAgent: async (_input: StopAgentInput): Promise<StoppedRun | undefined> => ({
      status: 'cancelled',
      exitCode: null,
      error: 'stopped',
      outputBytes: 0,
      finishedAt: new Date().toISOString(),
    }),
    conclude: async (input: ConcludeInput): Promise<Conclusion> => {
      const row = rows.get(input.executionId);
      let applied = false;
      if (row && input.outcome && !isTerminal(row.status) && canTransition(row.status, input.outcome.status)) {
        Object.assign(row, { status: input.outcome.status, outcome: input.outcome, actor: input.actor });
        applied = true;
      }
      if (input.releaseSlot !== false) holders(input.agent).delete(input.executionId);
      return { status: row?.status, applied };
    },
    releaseSlot: async ({ executionId, agent }: { executionId: string; agent: string }) => {
      holders(agent).delete(executionId);
    },
  };

  const replaced: Partial<ExecutionActivities> = script.override?.(defaults) ?? {};
  const activities = Object.fromEntries(
    Object.entries(defaults).map(([name, body]) => {
      const run = (replaced[name as keyof ExecutionActivities] ?? body) as (input: unknown) => Promise<unknown>;
      const recorded = async (input: unknown) => {
        calls.push({ activity: name as keyof ExecutionActivities, input });
        return run(input);
      };
      return [name, recorded];
    }),
  ) as unknown as ExecutionActivities;

  return {
    activities,
    rows,
    calls,
    /** The execution ids holding a slot on the agent. */
    slotHolders: (agent: string) => [...holders(agent)],
    /** The activities called, in order, by name. */
    calledActivities: () => calls.map((call) => call.activity),
  };
}

export type ScriptedActivities = ReturnType<typeof scriptedActivities>;
