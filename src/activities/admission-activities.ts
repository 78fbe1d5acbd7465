import { ApplicationFailure } from '@temporalio/activity';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionPlan } from '../domain/execution-types.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { infrastructureBoundSeconds } from '../domain/failure-classes.js';
import { isStorableJson, isStorableText, storableJson, storableText, unstorableTextMessage } from '../domain/storable-text.js';
import { activityLogger } from './activity-logger.js';
import { classified } from './step-failure.js';
import type { ExecutionInput } from '../workflows/execution-contract.js';

/**
 * The steps from a started workflow to a running row. They run as local activities inside the
 * workflow task, so a re-run after a lost task must land where the first run did: every step here
 * is idempotent and a row already `running` is this workflow's own (ids are never reused).
 */
export function createAdmissionActivities(deps: LifelineDeps) {
  const { executions, agents, slots } = deps;
  const settings = deps.settings.execution;

  /**
   * Called with the slot held. Returns the row's status afterwards: `running`, or the terminal
   * status another hand (the reconciler) wrote meanwhile, which leaves nothing to run.
   */
  async function markRunning(executionId: string, agent: string): Promise<ExecutionStatus> {
    const result = await executions.transition(executionId, 'running', { actor: 'workflow', reason: 'capacity slot acquired' });
    if (result.applied && result.startedAt) {
      deps.metrics.queueWaited(agent, (result.startedAt.getTime() - result.createdAt.getTime()) / 1000);
    }
    return result.applied ? 'running' : (result.current ?? 'running');
  }

  return {
    /**
     * Records the `queued` row, makes one try for a capacity slot and, with it, marks the row
     * `running`. The plan's status says where that left the execution: `running`, `queued` (no slot
     * on this try) or terminal (nothing left to do).
     */
    async admit(input: ExecutionInput & { executionId: string }): Promise<ExecutionPlan> {
      return classified(() => admit(input), infrastructureBoundSeconds);
    },

    /** After a queued wait took the slot; anything but `running` leaves the slot to the workflow's release. */
    async markRunning(input: { executionId: string; agent: string }): Promise<ExecutionStatus> {
      return classified(() => markRunning(input.executionId, input.agent), infrastructureBoundSeconds);
    },
  };

  async function admit(input: ExecutionInput & { executionId: string }): Promise<ExecutionPlan> {
    const { executionId } = input;
    const agent = await agents.get(input.agent);
    if (!agent) {
      throw ApplicationFailure.create({ type: 'invalid_input', message: `agent: unknown agent "${input.agent}"`, nonRetryable: true });
    }
    // Lifeline's client refuses such input; a start some other way still gets a row, which says why it failed.
    const unstorable = unstorableFields(input);
    const { created, row } = await executions.create({
      id: executionId,
      agent: input.agent,
      prompt: storableText(input.prompt),
      trigger: storableText(input.trigger),
      scheduleId: input.scheduleId === undefined ? undefined : storableText(input.scheduleId),
      busyPolicy: input.busyPolicy,
      timeoutSeconds: input.timeoutSeconds ?? agent.defaultTimeoutSeconds ?? settings.defaultTimeoutSeconds,
      metadata: input.metadata === undefined ? undefined : (storableJson(input.metadata) as Record<string, unknown>),
    });
    const log = activityLogger(deps.log, { executionId, agent: input.agent });
    if (created) {
      deps.metrics.executionStarted(input.agent);
      log.info('execution recorded as queued');
    }
    const rejected = unstorable.length > 0 ? `${unstorable.join(', ')}: ${unstorableTextMessage}` : undefined;
    let status = row.status;
    if (status === 'queued' && !rejected && (await slots.tryAcquire(input.agent, executionId, agent.capacity, input.busyPolicy))) {
      status = await markRunning(executionId, input.agent);
      // Never return without running while holding the slot: nothing else would release it.
      if (status !== 'running') await slots.release(input.agent, executionId);
    }
    return {
      status,
      capacity: agent.capacity,
      timeoutSeconds: row.timeoutSeconds,
      queueTimeoutSeconds: input.queueTimeoutSeconds ?? settings.queueTimeoutSeconds,
      heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
      stopWaitSeconds: settings.stopWaitSeconds,
      rejected,
    };
  }
}

/** The fields of an input that Postgres cannot store as they are. */
function unstorableFields(input: ExecutionInput): string[] {
  return [
    !isStorableText(input.prompt) && 'prompt',
    !isStorableText(input.trigger) && 'trigger',
    input.scheduleId !== undefined && !isStorableText(input.scheduleId) && 'scheduleId',
    input.metadata !== undefined && !isStorableJson(input.metadata) && 'metadata',
  ].filter((field): field is string => typeof field === 'string');
}
