import { ApplicationFailure } from '@temporalio/activity';
import type { ExecutionStatus } from '../domain/execution-status.js';
import type { ExecutionPlan } from '../domain/execution-types.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { activityLogger } from './activity-logger.js';
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
      const { executionId } = input;
      const agent = await agents.get(input.agent);
      if (!agent) {
        throw ApplicationFailure.create({ type: 'invalid_input', message: `agent: unknown agent "${input.agent}"`, nonRetryable: true });
      }
      const { created, row } = await executions.create({
        id: executionId,
        agent: input.agent,
        prompt: input.prompt,
        trigger: input.trigger,
        scheduleId: input.scheduleId,
        busyPolicy: input.busyPolicy,
        timeoutSeconds: input.timeoutSeconds ?? agent.defaultTimeoutSeconds ?? settings.defaultTimeoutSeconds,
        metadata: input.metadata,
      });
      const log = activityLogger(deps.log, { executionId, agent: input.agent });
      if (created) {
        deps.metrics.executionStarted(input.agent);
        log.info('execution recorded as queued');
      }
      let status = row.status;
      if (status === 'queued' && (await slots.tryAcquire(input.agent, executionId, agent.capacity, input.busyPolicy))) {
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
        runMaxAttempts: settings.runMaxAttempts,
      };
    },

    /** After a queued wait took the slot; anything but `running` leaves the slot to the workflow's release. */
    async markRunning(input: { executionId: string; agent: string }): Promise<ExecutionStatus> {
      return markRunning(input.executionId, input.agent);
    },
  };
}
