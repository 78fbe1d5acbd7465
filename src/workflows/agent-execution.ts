import {
  ActivityCancellationType,
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
import type { ExecutionActivities } from '../activities/execution-activities.js';
import { nonRetryableRunErrors } from '../activities/run-error-types.js';
import type { ExecutionStatus, TerminalOutcome } from '../domain/execution-status.js';
import type { ExecutionPlan } from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';
import {
  executionSearchAttributes,
  stateQuery,
  stopSignal,
  type ExecutionInput,
  type ExecutionLiveState,
  type ExecutionPhase,
  type ExecutionResult,
} from './execution-contract.js';
import {
  agentCannotBeStopped,
  alreadyFinishedFailure,
  executionFailure,
  isSlotWaitTimeout,
  outcomeFromFailure,
  outcomeFromRun,
  queueTimedOut,
} from './failure-outcome.js';

/**
 * The short steps (row writes, a slot try, the release) run as local activities inside the
 * workflow task: no task round trip each. They must eventually succeed (Postgres or Redis down for
 * a while), so they are retried until they do; a re-run after a lost task is safe, they are idempotent.
 */
const steps = proxyLocalActivities<ExecutionActivities>({
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
  const missing = executionSearchAttributes(input).filter(({ key, value }) => startedWith.get(key) !== value);
  if (missing.length > 0) upsertSearchAttributes(missing);
  enter('recording', 'writing the queued row and trying for a capacity slot');
  // Not cancellable: it may take the slot, and the compensation must know whether it did.
  const plan = await CancellationScope.nonCancellable(() => steps.admit({ ...input, executionId }));
  if (plan.status !== 'queued' && plan.status !== 'running') {
    // A re-run of an execution that already ended: nothing may run twice.
    publishStatus(plan.status);
    log.warn('execution row is already terminal; nothing to do', { status: plan.status });
    throw alreadyFinishedFailure(executionId, plan.status);
  }
  const { acquireSlot, runAgent, stopAgent } = activitiesFor(plan);

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
        try {
          await acquireSlot({ agent, executionId, capacity: plan.capacity });
        } catch (err) {
          if (!isSlotWaitTimeout(err)) throw err;
          outcome = queueTimedOut;
          return;
        }
        const status = await steps.markRunning({ executionId, agent });
        if (status !== 'running') {
          log.warn('row left queued by someone else; not starting the agent', { current: status });
          return;
        }
      }
      publishStatus('running');
      enter('running', `agent ${agent} running (timeout ${plan.timeoutSeconds} s)`);
      agentMayRun = true;
      const run = await runAgent({
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
    outcome = outcomeFromFailure(err, state.stopReason);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      enter('finalizing', outcome ? `ending as ${outcome.status}` : 'releasing resources');
      if (outcome && agentMayRun && !agentCannotBeStopped(outcome)) {
        try {
          await stopAgent({ executionId, agent, waitSeconds: plan.stopWaitSeconds });
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
  if (final.status === 'failed' || final.status === 'timed_out') throw executionFailure(final);
  return { executionId, status: final.status, errorKind: final.errorKind, error: final.error };
}

/** The activities that follow admission, with the timeouts its plan resolved. */
function activitiesFor(plan: ExecutionPlan) {
  const { acquireSlot } = proxyActivities<ExecutionActivities>({
    // The queue timeout: the wait ends as queue_timeout when no slot came free within it.
    scheduleToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    startToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '500 ms', maximumInterval: '5 seconds' },
    summary: 'wait for a capacity slot',
  });
  const { runAgent } = proxyActivities<ExecutionActivities>({
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
  const { stopAgent } = proxyActivities<ExecutionActivities>({
    startToCloseTimeout: `${plan.stopWaitSeconds + 10} seconds`,
    scheduleToCloseTimeout: `${2 * plan.stopWaitSeconds + 30} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '5 seconds' },
    summary: 'stop the agent process',
  });
  return { acquireSlot, runAgent, stopAgent };
}
