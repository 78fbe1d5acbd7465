import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LifelineActivities } from '../activities/index.js';
import { nonRetryableRunErrors } from '../activities/run-error-types.js';
import type { ExecutionStatus, TerminalOutcome } from '../domain/execution-status.js';
import type { ExecutionInput, ExecutionLiveState, ExecutionPhase, ExecutionPlan, ExecutionResult } from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';
import { stateQuery, stopSignal } from './execution-messages.js';
import { agentCannotBeStopped, outcomeFromFailure, outcomeFromRun } from './failure-outcome.js';

/**
 * The short steps (row writes, a slot try, the release) run as local activities inside the
 * workflow task: no task round trip each. They must eventually succeed (Postgres or Redis down for
 * a while), so they are retried until they do; a re-run after a lost task is safe, they are idempotent.
 */
const steps = proxyLocalActivities<LifelineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['invalid_input'] },
});

/**
 * One agent execution, from `queued` to a terminal row (DESIGN §4). Every path out of it, including
 * cancellation, runs the compensation in `finally`: stop the agent process if it may still run,
 * then conclude: store its output, write the terminal status, release the capacity slot, announce.
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

  // Lifeline's client and schedules set these at start; a workflow started some other way gets them here.
  const startedWith = workflowInfo().typedSearchAttributes;
  const missing = [
    { key: searchAttributes.agent, value: agent },
    { key: searchAttributes.status, value: 'queued' },
    { key: searchAttributes.trigger, value: input.trigger },
    ...(input.scheduleId ? [{ key: searchAttributes.schedule, value: input.scheduleId }] : []),
  ].filter(({ key, value }) => startedWith.get(key) !== value);
  if (missing.length > 0) upsertSearchAttributes(missing);
  enter('recording', 'writing the queued row and trying for a capacity slot');
  // Not cancellable: it may take the slot, and the compensation must know whether it did.
  const plan: ExecutionPlan = await CancellationScope.nonCancellable(() => steps.admit({ ...input, executionId }));
  if (plan.status !== 'queued' && plan.status !== 'running') {
    // A re-run of an execution that already ended: nothing may run twice.
    publishStatus(plan.status);
    log.warn('execution row is already terminal; nothing to do', { status: plan.status });
    throw ApplicationFailure.nonRetryable(`execution ${executionId} is already ${plan.status}`, 'already_started');
  }

  let outcome: TerminalOutcome | undefined;
  let agentMayRun = false;
  let runFinished = false;
  let failure: unknown;
  try {
    await work.run(async () => {
      if (plan.status === 'queued') {
        if (input.busyPolicy === 'skip') {
          outcome = { status: 'skipped', errorKind: 'agent_busy', error: `agent "${agent}" had no free capacity slot (busy policy: skip)` };
          return;
        }
        enter('acquiring_slot', `waiting for a capacity slot on ${agent}`);
        await acquireSlot(plan).acquireSlot({ agent, executionId, capacity: plan.capacity });
        const status = await steps.markRunning({ executionId, agent });
        if (status !== 'running') {
          log.warn('row left queued by someone else; not starting the agent', { current: status });
          return;
        }
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
      const actor = outcome?.errorKind === 'cancelled_by_operator' ? 'operator' : 'workflow';
      const reason = state.stopReason ?? outcome?.error;
      const concluded = await steps.conclude({ executionId, agent, outcome, actor, reason, storeOutput: runFinished });
      if (outcome) {
        publishStatus(concluded.status ?? outcome.status);
        state.errorKind = outcome.errorKind;
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

function acquireSlot(plan: ExecutionPlan) {
  return proxyActivities<LifelineActivities>({
    // The queue timeout: the wait ends as queue_timeout when no slot came free within it.
    scheduleToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    startToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '500 ms', maximumInterval: '5 seconds' },
    summary: 'wait for a capacity slot',
  });
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
