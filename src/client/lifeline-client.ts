import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import { isTerminal } from '../domain/execution-status.js';
import { searchAttributes } from '../domain/search-attributes.js';
import { createAgentStore } from '../store/agent-store.js';
import { createExecutionStore, type ExecutionRow } from '../store/execution-store.js';
import { waitUntil } from '../util/wait-until.js';
import { stopSignal } from '../workflows/execution-messages.js';
import { ExecutionNotFoundError, InvalidExecutionInputError, LifelineUnavailableError } from './client-errors.js';
import { parseStartRequest, type StartExecutionRequest } from './execution-input.js';

export interface LifelineClientOptions {
  temporal: Client;
  pool: pg.Pool;
  taskQueue: string;
}

export interface StartedExecution {
  executionId: string;
  workflowId: string;
}

const excerpt = (text: string, max = 200) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** What schedulers and services use to run agents through Lifeline. */
export class LifelineClient {
  private readonly executions;
  private readonly agents;

  constructor(private readonly opts: LifelineClientOptions) {
    // Reads only: the row's writers are the workflow and the reconciler.
    this.executions = createExecutionStore(opts.pool, { maxOutputBytes: 0 });
    this.agents = createAgentStore(opts.pool);
  }

  /**
   * Validates the request, then starts the execution's workflow. Idempotent by execution id: a
   * second start with the same id returns the same execution and never runs the agent again.
   */
  async startExecution(request: StartExecutionRequest): Promise<StartedExecution> {
    const input = parseStartRequest(request);
    const agent = await unavailableOnFailure('Postgres', () => this.agents.get(input.agent));
    if (!agent) throw new InvalidExecutionInputError([{ field: 'agent', message: `unknown agent "${input.agent}"` }]);
    const workflowId = input.executionId;
    try {
      await this.opts.temporal.workflow.start('agentExecution', {
        workflowId,
        taskQueue: this.opts.taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: searchAttributes.agent, value: input.agent },
          { key: searchAttributes.status, value: 'queued' },
          { key: searchAttributes.trigger, value: input.trigger },
          ...(input.scheduleId ? [{ key: searchAttributes.schedule, value: input.scheduleId }] : []),
        ],
        staticSummary: `${input.agent}: ${excerpt(input.prompt.replace(/\s+/g, ' '), 80)}`,
        staticDetails: [
          `**agent** ${input.agent}`,
          `**trigger** ${input.trigger}${input.scheduleId ? ` (schedule ${input.scheduleId})` : ''}`,
          `**timeout** ${input.timeoutSeconds ? `${input.timeoutSeconds} s` : 'agent default'}`,
          `**busy policy** ${input.busyPolicy}`,
          `**prompt** ${excerpt(input.prompt)}`,
        ].join('\n\n'),
      });
    } catch (err) {
      // A closed workflow with this id: the execution already ran; starting it again is not an error.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw asUnavailable('Temporal', err);
    }
    return { executionId: input.executionId, workflowId };
  }

  async getExecution(executionId: string): Promise<ExecutionRow | undefined> {
    return unavailableOnFailure('Postgres', () => this.executions.get(executionId));
  }

  /** Waits until the execution's row is terminal and returns it. */
  async waitForExecution(executionId: string, timeoutMs = 15 * 60_000): Promise<ExecutionRow> {
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

function asUnavailable(what: string, err: unknown): Error {
  if (err instanceof InvalidExecutionInputError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/UNAVAILABLE|ECONNREFUSED|ETIMEDOUT|Connection terminated|connect/i.test(message)) {
    return new LifelineUnavailableError(`${what} is unavailable: ${message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

async function unavailableOnFailure<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asUnavailable(what, err);
  }
}
