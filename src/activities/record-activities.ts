import { ApplicationFailure } from '@temporalio/activity';
import type { Actor, TerminalOutcome } from '../domain/execution-status.js';
import type { ExecutionInput, ExecutionPlan } from '../domain/execution-types.js';
import type { TransitionResult } from '../store/execution-store.js';
import type { ActivityDeps } from './activity-deps.js';
import { activityLogger } from './activity-logger.js';
import { announceFinished } from './notifier.js';

export interface FinalizeInput {
  executionId: string;
  agent: string;
  outcome: TerminalOutcome;
  actor: Actor;
  reason?: string;
}

/** Activities that write the execution row: the only writers besides the reconciler. */
export function createRecordActivities(deps: ActivityDeps) {
  const { executions, agents, settings } = deps;
  return {
    /** Step 1: the `queued` row (idempotent) and the resolved plan for the rest of the workflow. */
    async recordQueued(input: ExecutionInput & { executionId: string }): Promise<ExecutionPlan> {
      const agent = await agents.get(input.agent);
      if (!agent) {
        throw ApplicationFailure.create({
          type: 'invalid_input',
          message: `agent: unknown agent "${input.agent}"`,
          nonRetryable: true,
        });
      }
      const { created, row } = await executions.create({
        id: input.executionId,
        agent: input.agent,
        prompt: input.prompt,
        trigger: input.trigger,
        scheduleId: input.scheduleId,
        busyPolicy: input.busyPolicy,
        timeoutSeconds: input.timeoutSeconds ?? agent.defaultTimeoutSeconds ?? settings.defaultTimeoutSeconds,
        metadata: input.metadata,
      });
      if (created) deps.metrics.executionStarted(input.agent);
      activityLogger(deps.log, { executionId: input.executionId, agent: input.agent }).info(
        { created, status: row.status },
        created ? 'execution recorded as queued' : 'execution row already existed',
      );
      return {
        status: row.status,
        capacity: agent.capacity,
        timeoutSeconds: row.timeoutSeconds,
        queueTimeoutSeconds: input.queueTimeoutSeconds ?? settings.queueTimeoutSeconds,
        heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
        stopWaitSeconds: settings.stopWaitSeconds,
        runMaxAttempts: settings.runMaxAttempts,
      };
    },

    async markRunning(input: { executionId: string; agent: string }): Promise<TransitionResult> {
      const result = await executions.transition(input.executionId, 'running', { actor: 'workflow', reason: 'capacity slot acquired' });
      if (result.applied && result.startedAt) {
        deps.metrics.queueWaited(input.agent, (result.startedAt.getTime() - result.createdAt.getTime()) / 1000);
      }
      return result;
    },

    /** The terminal write. A row already terminal is left alone and reported, never overwritten. */
    async finalize(input: FinalizeInput): Promise<TransitionResult> {
      const { executionId, agent, outcome, actor, reason } = input;
      const result = await executions.transition(executionId, outcome.status, {
        actor,
        reason: reason ?? outcome.error,
        outcome,
      });
      const log = activityLogger(deps.log, { executionId, agent });
      if (result.applied) {
        const ran = result.startedAt && result.finishedAt ? (result.finishedAt.getTime() - result.startedAt.getTime()) / 1000 : undefined;
        deps.metrics.executionFinished(agent, outcome.status, outcome.errorKind, ran);
        log.info({ from: result.from, to: result.to, errorKind: outcome.errorKind }, 'terminal status written');
      }
      else log.warn({ current: result.current, wanted: outcome.status }, 'terminal write skipped: row not in a live status');
      return result;
    },

    /** Best effort by contract: the caller never lets a notification failure change the outcome. */
    async notifyFinished(input: FinalizeInput): Promise<void> {
      await announceFinished(input, deps.alerter, activityLogger(deps.log, input));
    },
  };
}
