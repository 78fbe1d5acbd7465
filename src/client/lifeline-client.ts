import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import { isTerminal } from '../domain/execution-status.js';
import { createAgentStore } from '../store/agent-store.js';
import { createExecutionReader, type ExecutionRow } from '../store/execution-reader.js';
import { waitUntil } from '../util/wait-until.js';
import { AgentSchedules } from './agent-schedules.js';
import { ExecutionConflictError, ExecutionNotFoundError, InvalidExecutionInputError } from './client-errors.js';
import { parseStartRequest, type StartExecutionRequest } from './execution-input.js';
import { executionWorkflowOptions } from './execution-workflow-options.js';
import { asUnavailable, unavailableOnFailure } from './unavailable.js';
import { agentExecution } from '../workflows/agent-execution.js';
import { stopSignal, type ExecutionInput } from '../workflows/execution-contract.js';

export interface LifelineClientOptions {
  temporal: Client;
  pool: pg.Pool;
  taskQueue: string;
}

export interface StartedExecution {
  executionId: string;
  workflowId: string;
}

/** What schedulers and services use to run agents through Lifeline. */
export class LifelineClient {
  private readonly executions;
  private readonly agents;
  /** Temporal Schedules that start executions of an agent (create, pause, trigger...). */
  readonly schedules: AgentSchedules;

  constructor(private readonly opts: LifelineClientOptions) {
    // Reads only: the row's writers are the workflow and the reconciler.
    this.executions = createExecutionReader(opts.pool);
    this.agents = createAgentStore(opts.pool);
    this.schedules = new AgentSchedules(opts);
  }

  /**
   * Validates the request, then starts the execution's workflow. Idempotent by execution id: a
   * second start with the same id returns the same execution and never runs the agent again.
   */
  async startExecution(request: StartExecutionRequest): Promise<StartedExecution> {
    const { executionId, input } = parseStartRequest(request);
    const agent = await unavailableOnFailure('Postgres', () => this.agents.get(input.agent));
    if (!agent) throw new InvalidExecutionInputError([{ field: 'agent', message: `unknown agent "${input.agent}"` }]);
    if (request.executionId !== undefined) await this.refuseConflict(executionId, input);
    const workflowId = executionId;
    try {
      await this.opts.temporal.workflow.start(agentExecution, {
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

  /** A caller's own id that already names another execution (another agent or prompt) is a bug to surface, not to paper over. */
  private async refuseConflict(executionId: string, input: ExecutionInput): Promise<void> {
    const existing = await this.getExecution(executionId);
    if (!existing) return;
    const differs = [existing.agent !== input.agent && 'agent', existing.prompt !== input.prompt && 'prompt'].filter(Boolean);
    if (differs.length > 0) {
      throw new ExecutionConflictError(
        `execution ${executionId} already exists with another ${differs.join(' and ')}; nothing was started`,
      );
    }
  }

  async getExecution(executionId: string): Promise<ExecutionRow | undefined> {
    return unavailableOnFailure('Postgres', () => this.executions.get(executionId));
  }

  /**
   * Waits until the execution's row is terminal and returns it. An id with neither a row nor a
   * workflow is unknown: ExecutionNotFoundError at once, not a timeout at the end of the wait.
   */
  async waitForExecution(executionId: string, timeoutMs = 15 * 60_000): Promise<ExecutionRow> {
    if (!(await this.getExecution(executionId))) {
      try {
        await this.opts.temporal.workflow.getHandle(executionId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
        throw asUnavailable('Temporal', err);
      }
    }
    return waitUntil(
      async () => {
        const row = await this.executions.get(executionId);
        if (!row) return undefined;
        return isTerminal(row.status) ? row : undefined;
      },
      { what: `execution ${executionId} to finish`, timeoutMs, intervalMs: 250 },
    );
  }

  /** Stops a live execution with the operator's reason (recorded in the row and the audit log). */
  async stopExecution(executionId: string, reason: string): Promise<void> {
    const row = await this.getExecution(executionId);
    if (!row) throw new ExecutionNotFoundError(`execution ${executionId} not found`);
    if (isTerminal(row.status)) return;
    await this.opts.temporal.workflow.getHandle(executionId).signal(stopSignal, { reason });
  }
}
