import { defaultTenant } from '../domain/tenants.js';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import { isTerminal, type ExecutionStatus } from '../domain/execution-status.js';
import { readStartChecks } from '../store/start-checks.js';
import { createAgentStore } from '../store/agent-store.js';
import { createExecutionReader, type ExecutionRow } from '../store/execution-reader.js';
import { recordNeverAdmitted } from '../store/execution-store.js';
import { recordNeverAdmittedEnd } from '../store/never-admitted-row.js';
import { neverPickedUp, readExecutionWorkflow, type ExecutionWorkflow } from '../temporal-api/execution-workflow.js';
import { noWorkerPollingText, taskQueueWorkers, type TaskQueueWorkers } from '../temporal-api/task-queue-pollers.js';
import { AgentSchedules } from './agent-schedules.js';
import type { SchedulePolicy } from '../domain/schedule-policy.js';
import { ExecutionConflictError, ExecutionNotFoundError, InvalidExecutionInputError } from './client-errors.js';
import { parseStartRequest } from './execution-input.js';
import { type StartExecutionRequest } from '../contract/start-execution-schema.js';
import { executionWorkflowOptions } from './execution-workflow-options.js';
import { asUnavailable, unavailableOnFailure } from './unavailable.js';
import type { agentExecution } from '../workflows/agent-execution.js';
import { stopSignal, type ExecutionInput, executionWorkflowType } from '../contract/execution-contract.js';
import { cancelledOutcome } from '../domain/execution-status.js';
import { SpanKind, type Span } from '@opentelemetry/api';
import { inSpan } from '../tracing/spans.js';

export interface LifelineClientOptions {
  temporal: Client;
  pool: pg.Pool;
  taskQueue: string;
  /** How often schedules may fire and how many an agent may have (defaults: schedule-policy.ts). */
  schedulePolicy?: Partial<SchedulePolicy>;
}

export interface StartedExecution {
  executionId: string;
  workflowId: string;
}

/**
 * An execution that Temporal accepted but that has no row: no worker has run its first workflow
 * task (which writes the row), or its workflow closed before one did and the reconciler has not
 * recorded it yet.
 */
export interface UnadmittedExecution extends ExecutionWorkflow {
  /**
   * `not_picked_up`: running, and no worker has run it; `being_picked_up`: a worker has its first
   * workflow task now (the row follows); `closed_before_pickup`: it ended without a worker (the
   * reconciler records its terminal row); `picked_up`: workflow code ran, the row is a moment away.
   */
  state: 'not_picked_up' | 'being_picked_up' | 'closed_before_pickup' | 'picked_up';
  /** The workers polling its task queue, for one not picked up; unknown when Temporal could not say. */
  workers?: TaskQueueWorkers;
  /** Why nothing happens to it, when no worker polls its task queue. */
  problem?: string;
}

/** What a stop did. */
export type StopResult =
  /** The workflow got the stop signal: it stops the agent process and ends the row `cancelled`. */
  | { outcome: 'stop_requested' }
  /** The row had already ended: nothing to stop. */
  | { outcome: 'already_finished'; status: ExecutionStatus }
  /**
   * No worker had picked it up: its workflow was terminated (no row, slot or process existed) and
   * its terminal row written, `cancelled` by the operator.
   */
  | { outcome: 'terminated_before_pickup'; taskQueue: string }
  /** Its workflow had closed before any worker picked it up (a timeout): the reconciler records its row. */
  | { outcome: 'closed_before_pickup'; workflowStatus: string };

/** Options of a wait for an execution to end. */
export interface WaitOptions {
  /**
   * Told, once each, what the wait is waiting for once it waited `quietMs`: no worker polls the task
   * queue, the agent is full, every worker is busy... The CLI prints it.
   */
  onWaiting?: (message: string) => void;
  /** How long the wait stays quiet before it says what it waits for (default 3 s). */
  quietMs?: number;
}

/** What schedulers and services use to run agents through Lifeline. */
export class LifelineClient {
  private readonly executions;
  private readonly agents;
  /** Temporal Schedules that start executions of an agent (create, pause, trigger...). */
  readonly schedules: AgentSchedules;

  constructor(private readonly opts: LifelineClientOptions) {
    // Reads, with one exception: the row's writers are the workflow and the reconciler, and the
    // operator's stop of an execution no worker ever picked up (no workflow code will write it).
    this.executions = createExecutionReader(opts.pool);
    this.agents = createAgentStore(opts.pool);
    this.schedules = new AgentSchedules(opts);
  }

  /**
   * Validates the request, then starts the execution's workflow. Idempotent by execution id: a
   * second start with the same id returns the same execution and never runs the agent again.
   */
  /** A span of the caller's trace (when it records one), the root of the execution's spans. */
  async startExecution(request: StartExecutionRequest): Promise<StartedExecution> {
    return inSpan('lifeline startExecution', { kind: SpanKind.CLIENT }, (span) => this.start(request, span));
  }

  private async start(request: StartExecutionRequest, span: Span): Promise<StartedExecution> {
    const parsed = parseStartRequest(request);
    const { executionId } = parsed;
    // Named at start, so the tenant's search attribute is set from the first moment.
    const input = { ...parsed.input, tenant: parsed.input.tenant ?? defaultTenant };
    span.setAttributes({ 'lifeline.execution_id': executionId, 'lifeline.agent': input.agent, 'lifeline.tenant': input.tenant });
    // Only a caller's own id can name an execution that exists already.
    const checks = await unavailableOnFailure('Postgres', () => readStartChecks(this.opts.pool, input.agent, request.executionId));
    if (!checks.agentKnown) throw new InvalidExecutionInputError([{ field: 'agent', message: `unknown agent "${input.agent}"` }]);
    if (checks.existing) refuseConflict(executionId, input, checks.existing);
    const workflowId = executionId;
    try {
      await this.opts.temporal.workflow.start<typeof agentExecution>(executionWorkflowType, {
        args: [input],
        workflowId,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        ...executionWorkflowOptions(input, this.opts.taskQueue),
      });
    } catch (err) {
      // A closed workflow with this id: the execution already ran; starting it again is not an error.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asUnavailable('Temporal', err);
    }
    return { executionId, workflowId };
  }

  async getExecution(executionId: string): Promise<ExecutionRow | undefined> {
    return unavailableOnFailure('Postgres', () => this.executions.get(executionId));
  }

  /** Whether a live worker polls this client's task queue: an execution started while none does waits for one. */
  async workersOnTaskQueue(): Promise<TaskQueueWorkers> {
    return unavailableOnFailure('Temporal', () => taskQueueWorkers(this.opts.temporal.workflow, this.opts.taskQueue));
  }

  /**
   * An execution without a row, as Temporal knows it (the execution id is its workflow id): until a
   * worker runs its first workflow task, Temporal is the only place it is. Undefined when Temporal
   * has no execution workflow of that id either.
   */
  async getUnadmittedExecution(executionId: string): Promise<UnadmittedExecution | undefined> {
    const workflow = await unavailableOnFailure('Temporal', () => readExecutionWorkflow(this.opts.temporal.workflow, executionId));
    if (!workflow) return undefined;
    if (workflow.status !== 'RUNNING') return { ...workflow, state: workflow.pickedUp ? 'picked_up' : 'closed_before_pickup' };
    if (workflow.pickedUp) return { ...workflow, state: 'picked_up' };
    if (workflow.taskInFlight) return { ...workflow, state: 'being_picked_up' };
    const workers = await taskQueueWorkers(this.opts.temporal.workflow, workflow.taskQueue).catch(() => undefined);
    const problem = workers && workers.alive === 0 ? noWorkerPollingText(workers) : undefined;
    return { ...workflow, state: 'not_picked_up', workers, problem };
  }

  /**
   * Waits until the execution's row is terminal and returns it. An id with neither a row nor a
   * workflow is unknown: ExecutionNotFoundError at once, not a timeout at the end of the wait.
   * `onWaiting` hears what the wait is waiting for, once each, after a few quiet seconds.
   */
  async waitForExecution(executionId: string, timeoutMs = 15 * 60_000, options: WaitOptions = {}): Promise<ExecutionRow> {
    if (!(await this.getExecution(executionId))) {
      try {
        await this.opts.temporal.workflow.getHandle(executionId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
        throw asUnavailable('Temporal', err);
      }
    }
    const started = Date.now();
    const deadline = started + timeoutMs;
    const { onWaiting, quietMs = 3000 } = options;
    const told = new Set<string>();
    let nextLook = started + quietMs;
    let lastError: unknown;
    for (;;) {
      try {
        const row = await this.executions.get(executionId);
        if (row && isTerminal(row.status)) return row;
        if (onWaiting && Date.now() >= nextLook) {
          nextLook = Date.now() + 2000;
          const waitingFor = await this.waitingFor(executionId, row);
          if (waitingFor && !told.has(waitingFor)) {
            told.add(waitingFor);
            onWaiting(`waiting: ${waitingFor}`);
          }
        }
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) {
        const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
        throw new Error(`timed out after ${timeoutMs} ms waiting for execution ${executionId} to finish${cause}`);
      }
      await delay(250);
    }
  }

  /** What an execution that has not ended waits for, in an operator's words; undefined while it simply runs. */
  private async waitingFor(executionId: string, row: ExecutionRow | undefined): Promise<string | undefined> {
    if (row?.status === 'queued' && row.startSentAt) {
      return `starting: a worker sent agent ${row.agent} the start at ${row.startSentAt.toISOString()}; the agent has not accepted it yet`;
    }
    if (row?.status === 'queued' && row.slotAcquiredAt) {
      return `admitted with a capacity slot on ${row.agent}; waiting for a worker to start the run (every worker is at LIFELINE_MAX_CONCURRENT_RUNS?)`;
    }
    if (row?.status === 'queued') {
      const agent = await this.agents.get(row.agent);
      return `queued for a capacity slot on agent ${row.agent}${agent ? ` (all ${agent.capacity} taken)` : ''} (busy policy ${row.busyPolicy})`;
    }
    if (row) return undefined;
    const unadmitted = await this.getUnadmittedExecution(executionId);
    switch (unadmitted?.state) {
      case 'not_picked_up':
        return unadmitted.problem ?? `no worker has picked it up yet from task queue ${unadmitted.taskQueue}`;
      case 'closed_before_pickup':
        return `its workflow ended (${unadmitted.status}) before any worker picked it up; the reconciler records its terminal row`;
      default:
        return undefined;
    }
  }

  /**
   * Stops a live execution with the operator's reason (recorded in the row and the audit log). One
   * that no worker ever picked up has no row, slot or agent process, and no workflow code that would
   * hear a signal: its workflow is terminated and its terminal row written here, `cancelled` by the
   * operator, from its start event's input.
   */
  async stopExecution(executionId: string, reason: string): Promise<StopResult> {
    const row = await this.getExecution(executionId);
    if (row) {
      if (isTerminal(row.status)) return { outcome: 'already_finished', status: row.status };
      await this.signalStop(executionId, reason);
      return { outcome: 'stop_requested' };
    }
    const workflow = await unavailableOnFailure('Temporal', () => readExecutionWorkflow(this.opts.temporal.workflow, executionId));
    if (!workflow) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
    if (workflow.status !== 'RUNNING') {
      // Closed before its row was written (admission's row may be a moment away when it was picked up).
      const now = await this.getExecution(executionId);
      if (now && isTerminal(now.status)) return { outcome: 'already_finished', status: now.status };
      return { outcome: 'closed_before_pickup', workflowStatus: workflow.status };
    }
    // Picked up (its row is a moment away) or being picked up: the workflow hears the stop signal.
    if (!neverPickedUp(workflow)) {
      await this.signalStop(executionId, reason);
      return { outcome: 'stop_requested' };
    }
    await unavailableOnFailure('Temporal', () =>
      this.opts.temporal.workflow
        .getHandle(executionId, workflow.runId)
        .terminate(`stopped by operator before any worker picked it up: ${reason}`),
    );
    // A worker that took it in the instant before the terminate wrote a row: it moves on from there;
    // the reconciler then releases a slot or stops a process it left, as for any terminal row.
    const outcome = cancelledOutcome(reason);
    const recorded = await unavailableOnFailure('Postgres', () =>
      recordNeverAdmittedEnd(
        { agents: this.agents, recordNeverAdmitted: (execution) => recordNeverAdmitted(this.opts.pool, execution) },
        workflow,
        {
          outcome: { ...outcome, error: `${outcome.error} (before any worker picked it up from task queue ${workflow.taskQueue})` },
          actor: 'operator',
          reason,
          defaultTimeoutSeconds: lifelineDefaultTimeoutSeconds,
        },
      ),
    );
    if (!recorded.written && !(await this.getExecution(executionId))) {
      throw new Error(`execution ${executionId} was terminated, but its row could not be written: ${recorded.why}`);
    }
    return { outcome: 'terminated_before_pickup', taskQueue: workflow.taskQueue };
  }

  private async signalStop(executionId: string, reason: string): Promise<void> {
    await unavailableOnFailure('Temporal', () => this.opts.temporal.workflow.getHandle(executionId).signal(stopSignal, { reason }));
  }
}

/**
 * The timeout recorded in the row of an execution stopped before any worker admitted it, when
 * neither it nor its agent sets one: LIFELINE_DEFAULT_TIMEOUT_SECONDS' default (the workers' own
 * setting is not the client's to know). The run never started, so it only describes the row.
 */
const lifelineDefaultTimeoutSeconds = 900;

/** A caller's own id that already names another execution (another agent or prompt) is a bug to surface, not to paper over. */
function refuseConflict(executionId: string, input: ExecutionInput, existing: { agent: string; prompt: string }): void {
  const differs = [existing.agent !== input.agent && 'agent', existing.prompt !== input.prompt && 'prompt'].filter(Boolean);
  if (differs.length > 0) {
    throw new ExecutionConflictError(`execution ${executionId} already exists with another ${differs.join(' and ')}; nothing was started`);
  }
}
