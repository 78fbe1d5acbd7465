import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifelineActivities } from '../activities/index.js';
import { nonRetryableRunErrors } from '../activities/run-error-types.js';
import type { ExecutionStatus, TerminalOutcome } from '../domain/execution-status.js';
import type {
  ExecutionInput,
  ExecutionLiveState,
  ExecutionPhase,
  ExecutionPlan,
  ExecutionResult,
} from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';
import { stateQuery, stopSignal } from './execution-messages.js';
import { agentCannotBeStopped, outcomeFromFailure, outcomeFromRun } from './failure-outcome.js';

/** Steps that must eventually succeed (Postgres or Redis down for a while): retried until they do. */
const persistent = proxyActivities<LifelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['invalid_input'] },
});

/** Notifications are best effort: a few tries, then the execution moves on. */
const bestEffort = proxyActivities<LifelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/**
 * One agent execution, from `queued` to a terminal row (DESIGN §4). Every path out of it, including
 * cancellation, runs the compensation in `finally`: stop the agent process if it may still run,
 * store its output, write the terminal status, release the capacity slot, notify.
 */
export async function agentExecution(input: ExecutionInput): Promise<ExecutionResult> {
  const { agent } = input;
  const executionId = workflowInfo().workflowId;
  const state: ExecutionLiveState = { executionId, agent, phase: 'recording', status: 'queued' };
  const enter = (phase: ExecutionPhase, details: string) => {
    state.phase = phase;
    setCurrentDetails(`**${phase.replace('_', ' ')}** — ${details}`);
  };
  const publishStatus = (status: ExecutionStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
  };
  setHandler(stateQuery, () => ({ ...state }));

  // The operator's stop cancels only the work, not the workflow: compensation runs and the
  // workflow completes normally with a `cancelled` row that carries the reason.
  const work = new CancellationScope();
  setHandler(stopSignal, ({ reason }) => {
    if (state.stopReason !== undefined) return;
    state.stopReason = reason || 'no reason given';
    work.cancel();
  });

  upsertSearchAttributes([
    { key: searchAttributes.agent, value: agent },
    { key: searchAttributes.trigger, value: input.trigger },
    ...(input.scheduleId ? [{ key: searchAttributes.schedule, value: input.scheduleId }] : []),
  ]);
  publishStatus('queued');
  enter('recording', 'writing the queued row');
  const plan: ExecutionPlan = await persistent.recordQueued({ ...input, executionId });
  if (plan.status !== 'queued') {
    // A re-run of an execution that already got past this point: nothing may run twice.
    publishStatus(plan.status);
    log.warn('execution row is not queued; nothing to do', { status: plan.status });
    throw ApplicationFailure.nonRetryable(`execution ${executionId} is already ${plan.status}`, 'already_started');
  }

  let outcome: TerminalOutcome | undefined;
  let agentMayRun = false;
  let runFinished = false;
  let failure: unknown;
  try {
    await work.run(async () => {
      enter('acquiring_slot', `${input.busyPolicy === 'queue' ? 'waiting for' : 'trying'} a capacity slot on ${agent}`);
      const acquired = await acquireSlot(plan, input, executionId);
      if (!acquired) {
        outcome = { status: 'skipped', errorKind: 'agent_busy', error: `agent "${agent}" had no free capacity slot (busy policy: skip)` };
        return;
      }
      const marked = await persistent.markRunning({ executionId, agent });
      if (!marked.applied) {
        log.warn('row left queued by someone else; not starting the agent', { current: marked.current });
        return;
      }
      publishStatus('running');
      enter('running', `agent ${agent} running (timeout ${plan.timeoutSeconds} s)`);
      agentMayRun = true;
      const run = await runAgent(plan).runAgent({
        executionId,
        agent,
        prompt: input.prompt,
        timeoutSeconds: plan.timeoutSeconds,
        metadata: input.metadata,
      });
      agentMayRun = false;
      runFinished = true;
      outcome = outcomeFromRun(run);
    });
  } catch (err) {
    failure = err;
    outcome = outcomeFromFailure(err, state.phase, state.stopReason);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      enter('finalizing', outcome ? `ending as ${outcome.status}` : 'releasing resources');
      if (outcome && agentMayRun && !agentCannotBeStopped(outcome)) {
        try {
          await stopAgent(plan).stopAgent({ executionId, agent, waitSeconds: plan.stopWaitSeconds });
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          outcome = { ...outcome, error: `${outcome.error ?? ''} (the agent process could not be confirmed stopped: ${message})`.trim() };
        }
      }
      if (runFinished) await persistent.storeOutput({ executionId, agent });
      // The terminal write comes before the release: the reconciler restores the lease of a row it
      // still sees running, so a released slot must never belong to a row that is still live.
      const actor = outcome?.errorKind === 'cancelled_by_operator' ? 'operator' : 'workflow';
      const reason = state.stopReason ?? outcome?.error;
      if (outcome) {
        const written = await persistent.finalize({ executionId, agent, outcome, actor, reason });
        publishStatus(written.applied ? outcome.status : (written.current ?? outcome.status));
        state.errorKind = outcome.errorKind;
      }
      await persistent.releaseSlot({ agent, executionId });
      if (outcome) {
        await bestEffort.notifyFinished({ executionId, agent, outcome, actor, reason }).catch((err: unknown) => {
          log.warn('notification failed; the execution outcome stands', { error: String(err) });
        });
      }
      enter('done', outcome ? outcome.status : 'finished elsewhere');
    });
  }

  if (failure !== undefined && isCancellation(failure) && state.stopReason === undefined) throw failure;
  const final = outcome ?? { status: 'cancelled' as const, errorKind: 'closed_outside_workflow' as const };
  if (final.status === 'failed' || final.status === 'timed_out') {
    throw ApplicationFailure.nonRetryable(final.error ?? final.status, final.errorKind);
  }
  return { executionId, status: final.status, errorKind: final.errorKind, error: final.error };
}

function acquireSlot(plan: ExecutionPlan, input: ExecutionInput, executionId: string): Promise<boolean> {
  const { acquireSlot } = proxyActivities<LifelineActivities>({
    scheduleToCloseTimeout: input.busyPolicy === 'queue' ? `${plan.queueTimeoutSeconds} seconds` : '2 minutes',
    startToCloseTimeout: input.busyPolicy === 'queue' ? `${plan.queueTimeoutSeconds} seconds` : '30 seconds',
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '500 ms', maximumInterval: '5 seconds' },
    summary: 'acquire a capacity slot',
  });
  return acquireSlot({ agent: input.agent, executionId, capacity: plan.capacity, policy: input.busyPolicy });
}

function runAgent(plan: ExecutionPlan) {
  return proxyActivities<LifelineActivities>({
    // The execution deadline lives here, inside the workflow, so compensation always runs after it.
    scheduleToCloseTimeout: `${plan.timeoutSeconds} seconds`,
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    retry: {
      initialInterval: '1 second',
      maximumInterval: '10 seconds',
      maximumAttempts: plan.runMaxAttempts,
      nonRetryableErrorTypes: nonRetryableRunErrors,
    },
    // Wait for the activity to stop the agent process before compensation goes on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: 'run the agent',
  });
}

function stopAgent(plan: ExecutionPlan) {
  return proxyActivities<LifelineActivities>({
    startToCloseTimeout: `${plan.stopWaitSeconds + 10} seconds`,
    scheduleToCloseTimeout: `${2 * plan.stopWaitSeconds + 30} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '5 seconds' },
    summary: 'stop the agent process',
  });
}
