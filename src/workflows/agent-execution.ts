import type { Priority } from '@temporalio/common';
import {
  ActivityCancellationType,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExecutionActivities } from '../contract/execution-activities.js';
import type { StoppedRun } from '../contract/execution-activities.js';
import { stopUntilGoneSeconds } from '../domain/execution-lifetime.js';
import type { ExecutionStatus, TerminalOutcome } from '../domain/execution-status.js';
import { permanentFailureTypes } from '../domain/failure-classes.js';
import type { AgentRunSummary, ExecutionPlan, PlannedTenant } from '../domain/execution-types.js';
import { searchAttributes } from '../domain/search-attributes.js';
import {
  agentStartedSignal,
  executionSearchAttributes,
  stateQuery,
  stopSignal,
  type ExecutionInput,
  type ExecutionLiveState,
  type ExecutionPhase,
  type ExecutionResult,
} from '../contract/execution-contract.js';
import {
  agentCannotBeStopped,
  alreadyFinishedFailure,
  executionFailure,
  failureMessage,
  finishedByItself,
  isSlotWaitTimeout,
  lateResultNote,
  outcomeFromFailure,
  outcomeFromRun,
  overBudgetAtEnd,
  processNeverStarted,
  queueTimedOut,
  rowClosedElsewhere,
  withLateResult,
  type EndRequest,
} from './failure-outcome.js';
import { searchAttributeWrites } from './search-attribute-writes.js';
import { cancelledOutcome } from '../domain/execution-status.js';

/**
 * The short steps (row writes, a slot try, the release) run as local activities inside the
 * workflow task: no task round trip each. They ride out Postgres or Redis being away for a while,
 * within the bound the failure table gives them (failure-classes.ts); a re-run after a lost task is
 * safe, they are idempotent.
 */
const steps = proxyLocalActivities<ExecutionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: permanentFailureTypes },
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
  // One patch for every change since the ones below: a lean execution records one marker, not one
  // per change, and gathers its search attribute writes (DESIGN: "A lean lifecycle"). The patches
  // below are asked only of executions started before it, whose histories carry their markers.
  const lean = patched('lean-lifecycle');
  // Executions started before this change marked their row running when the slot came, and carry no phase attribute.
  const agentMarksRunning = lean || patched('running-when-agent-has-it');
  // Executions started before this change let a result the agent reported after a stop or Cancel override it.
  const stopWinsOverLateResult = lean || patched('stop-wins-over-late-result');
  const attributes = searchAttributeWrites(lean);
  const enter = (phase: ExecutionPhase, details: string) => {
    state.phase = phase;
    setCurrentDetails(`**${phase.replace('_', ' ')}** — ${details}`);
    if (agentMarksRunning) attributes.set({ key: searchAttributes.phase, value: phase });
  };
  const publishStatus = (status: ExecutionStatus) => {
    state.status = status;
    attributes.set({ key: searchAttributes.status, value: status });
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
  const missing = executionSearchAttributes(input, lean || patched('tenant-attribute')).filter(
    ({ key, value }) => startedWith.get(key) !== value,
  );
  if (missing.length > 0) upsertSearchAttributes(missing);
  enter('recording', 'writing the queued row and trying for a capacity slot');
  // Not cancellable: it may take the slot, and the compensation must know whether it did.
  const plan = await CancellationScope.nonCancellable(() => steps.admit({ ...input, executionId }));
  if (plan.status !== 'queued' && plan.status !== 'running') {
    // A re-run of an execution that already ended: nothing may run twice.
    publishStatus(plan.status);
    attributes.flush();
    log.warn('execution row is already terminal; nothing to do', { status: plan.status });
    throw alreadyFinishedFailure(executionId, plan.status);
  }
  const { acquireSlot, runAgent, stopAgent, stopUntilGone } = activitiesFor(plan);
  const enterRunning = () => {
    publishStatus('running');
    enter('running', `agent ${agent} running (timeout ${plan.timeoutSeconds} s)`);
  };
  setHandler(agentStartedSignal, () => {
    if (state.phase !== 'awaiting_worker') return;
    enterRunning();
    attributes.flush();
  });

  let outcome: TerminalOutcome | undefined;
  let agentMayRun = false;
  let runFinished = false;
  let outputStored = false;
  let failure: unknown;
  // A stop or Cancel reaches the run activity only with its next heartbeat, which can be most of a
  // heartbeat timeout away: the agent is told at once instead, by a stop of its own (DESIGN §7).
  let stopping: Promise<StopResult> | undefined;
  const stopTheAgent = (): Promise<StopResult> =>
    CancellationScope.nonCancellable(() => stopAgent({ executionId, agent, waitSeconds: plan.stopWaitSeconds })).then(
      (record) => ({ record }),
      (failure: unknown) => ({ failure }),
    );
  let runDeadline = Infinity;
  // When the stop or Cancel was requested, in workflow time (the same on every replay). The agent's
  // result wins only if it finished at or before this moment by the agent's clock, compared as they
  // are, without a tolerance: a stop ends a run only after it reaches the agent, which is later than
  // this moment, so any doubt goes to the stop (DESIGN.md, "A stop wins over a late result").
  let stopRequestedAt: number | undefined;
  work.cancelRequested.catch(() => {
    // eslint-disable-next-line no-restricted-properties
    stopRequestedAt = Date.now();
    if (agentMayRun && (lean || patched('stop-at-once'))) stopping = stopTheAgent();
  });
  const stopRequest = (): EndRequest | undefined =>
    stopWinsOverLateResult && stopRequestedAt !== undefined
      ? { at: stopRequestedAt, what: state.stopReason === undefined ? 'the cancel was requested' : 'the stop was requested' }
      : undefined;
  // What the audit says about a result the agent reported only after the stop, Cancel or deadline.
  let lateNote: string | undefined;
  // A run's own result, judged against its budget once more by its final usage report.
  const judgedRun = (run: AgentRunSummary): TerminalOutcome => {
    const over = overBudgetAtEnd(run, input.maxCostUsd);
    return over && (lean || patched('budget-judged-at-end')) ? over : outcomeFromRun(run);
  };
  try {
    await work.run(async () => {
      if (plan.rejected !== undefined) {
        outcome = { status: 'failed', errorKind: 'invalid_input', error: plan.rejected };
        return;
      }
      if (plan.overBudget !== undefined) {
        outcome = { status: 'skipped', errorKind: 'tenant_over_budget', error: plan.overBudget };
        return;
      }
      if (plan.status === 'queued' && !plan.slotHeld) {
        if (input.busyPolicy === 'skip') {
          outcome = { status: 'skipped', errorKind: 'agent_busy', error: `agent "${agent}" had no free capacity slot (busy policy: skip)` };
          return;
        }
        enter('acquiring_slot', `waiting for a capacity slot on ${agent}`);
        attributes.flush();
        try {
          // Only when planned: the wait's input stays as it was for executions admitted before tenants.
          await acquireSlot({ agent, executionId, capacity: plan.capacity, ...(plan.tenant && { tenant: plan.tenant.name }) });
        } catch (err) {
          if (!isSlotWaitTimeout(err)) throw err;
          outcome = queueTimedOut;
          return;
        }
        if (!agentMarksRunning) {
          const status = await steps.markRunning({ executionId, agent });
          if (status !== 'running') {
            log.warn('row left queued by someone else; not starting the agent', { current: status });
            return;
          }
        }
      }
      // The row turns running when a worker has the agent start the run (agentStartedSignal): until
      // then every worker may be at its limit of concurrent runs, which this phase shows.
      if (agentMarksRunning) enter('awaiting_worker', `holding a capacity slot on ${agent}; waiting for a worker to start the run`);
      else enterRunning();
      attributes.flush();
      agentMayRun = true;
      // Workflow time, the same on every replay: the moment the run's schedule-to-close clock starts.
      // eslint-disable-next-line no-restricted-properties
      runDeadline = Date.now() + plan.timeoutSeconds * 1000;
      const run = await runAgent({
        executionId,
        agent,
        prompt: input.prompt,
        timeoutSeconds: plan.timeoutSeconds,
        metadata: input.metadata,
        // Lean: the row's own, so the run need not read it. Before: only when set, as it was.
        ...(lean
          ? { idleTimeoutSeconds: plan.idleTimeoutSeconds ?? null }
          : input.idleTimeoutSeconds !== undefined && { idleTimeoutSeconds: input.idleTimeoutSeconds }),
        ...(input.maxCostUsd !== undefined && { maxCostUsd: input.maxCostUsd }),
        ...(plan.tenant && { tenant: plan.tenant.name }),
      });
      agentMayRun = false;
      runFinished = true;
      outputStored = run.outputStored === true;
      // A result that finished after the stop or Cancel was requested (a process that exits 0 on
      // SIGTERM, an agent that says so) does not override it: the row ends cancelled, noting it.
      const stop = stopRequest();
      lateNote = stop && lateResultNote(run, stop);
      if (lateNote) outcome = withLateResult(cancelledOutcome(state.stopReason), run, lateNote);
      // The run ended on the agent because of this stop: what ended it is the operator's stop.
      else outcome = run.status === 'cancelled' && work.consideredCancelled ? cancelledOutcome(state.stopReason) : judgedRun(run);
    });
  } catch (err) {
    failure = err;
    if (processNeverStarted(err)) agentMayRun = false;
    // Ended by another hand before the agent got the run: nothing to write, only the slot to release.
    outcome = rowClosedElsewhere(err) ? undefined : outcomeFromFailure(err, state.stopReason);
  } finally {
    await CancellationScope.nonCancellable(async () => {
      enter('finalizing', outcome ? `ending as ${outcome.status}` : 'releasing resources');
      if (!stopping && outcome && agentMayRun && !agentCannotBeStopped(outcome)) stopping = stopTheAgent();
      // The phase shows while the agent is being stopped, which may take the stop's whole wait.
      if (stopping) attributes.flush();
      const stopped = await stopping;
      if (outcome && stopped?.failure !== undefined) {
        const why = `the agent process could not be confirmed stopped: ${failureMessage(stopped.failure)}`;
        outcome = { ...outcome, error: `${outcome.error ?? ''} (${why})`.trim() };
      }
      // The run ended on its own by the deadline and before any stop or Cancel was requested (the
      // worker or the poll saw it late): its result wins. One that finished later does not; the audit notes it.
      const stop = stopRequest();
      const record = stopped?.record;
      if (outcome && record && finishedByItself(record, Math.min(runDeadline, stop?.at ?? Infinity))) outcome = judgedRun(record);
      else if (outcome && record && !runFinished && stopWinsOverLateResult) {
        lateNote = (stop && lateResultNote(record, stop)) ?? lateResultNote(record, { at: runDeadline, what: 'its deadline' });
        if (lateNote) outcome = withLateResult(outcome, record, lateNote);
      }
      // After a confirmed stop the agent still has what the run printed: the transcript is kept on every
      // ending. Not asked for again when the run activity stored it (a new input, the same commands: replay holds).
      const storeOutput = (runFinished && !outputStored) || stopped?.record !== undefined;
      const actor = outcome?.errorKind === 'cancelled_by_operator' ? 'operator' : 'workflow';
      const reason = state.stopReason === undefined ? outcome?.error : lateNote ? `${state.stopReason} (${lateNote})` : state.stopReason;
      // A process that may still run keeps its capacity slot: the row ends now, the slot once the process is gone.
      const holdSlot = stopped?.failure !== undefined && (lean || patched('hold-slot-until-stopped'));
      const concluded = await steps.conclude({ executionId, agent, outcome, actor, reason, storeOutput, releaseSlot: !holdSlot });
      if (outcome) {
        publishStatus(concluded.status ?? outcome.status);
        state.errorKind = outcome.errorKind;
      }
      if (holdSlot) {
        enter('stopping', `the agent process could not be confirmed stopped; its slot on ${agent} stays held until it is`);
        attributes.flush();
        await stopUntilGone({ executionId, agent, waitSeconds: plan.stopWaitSeconds }).catch((err: unknown) =>
          log.error('gave up stopping the agent process; releasing its slot', { err: failureMessage(err) }),
        );
        await steps.releaseSlot({ executionId, agent });
      }
      enter('done', outcome ? outcome.status : 'finished elsewhere');
      attributes.flush();
    });
  }

  // Cancelled through Temporal (not the stop signal): the workflow ends Cancelled, whether the run
  // noticed the cancel itself or ended on the agent first because the agent was told at once.
  if (state.stopReason === undefined && (isCancellation(failure) || CancellationScope.current().consideredCancelled)) {
    throw isCancellation(failure) ? failure : new CancelledFailure('cancelled through Temporal');
  }
  const final = outcome ?? { status: 'cancelled' as const, errorKind: 'closed_outside_workflow' as const };
  if (final.status === 'failed' || final.status === 'timed_out') throw executionFailure(final);
  return { executionId, status: final.status, errorKind: final.errorKind, error: final.error };
}

/** How the stop of an agent process went: the run's record once it ended, or why the stop failed. */
interface StopResult {
  record?: StoppedRun;
  failure?: unknown;
}

/**
 * Where Temporal's matching service dispatches the execution's long activities: by its tenant's
 * priority, and fairly among tenants by weight on a server with fairness on (docs/tenants.md).
 * Stops carry none: compensation never waits behind other tenants' work.
 */
function dispatchOf(tenant: PlannedTenant | undefined): { priority?: Priority } {
  return tenant ? { priority: { priorityKey: tenant.priority, fairnessKey: tenant.name, fairnessWeight: tenant.weight } } : {};
}

/** The activities that follow admission, with the timeouts its plan resolved. */
function activitiesFor(plan: ExecutionPlan) {
  const dispatch = dispatchOf(plan.tenant);
  const { acquireSlot } = proxyActivities<ExecutionActivities>({
    ...dispatch,
    // The queue timeout: the wait ends as queue_timeout when no slot came free within it.
    scheduleToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    startToCloseTimeout: `${plan.queueTimeoutSeconds} seconds`,
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    retry: { initialInterval: '500 ms', maximumInterval: '5 seconds' },
    summary: 'wait for a capacity slot',
  });
  const { runAgent } = proxyActivities<ExecutionActivities>({
    ...dispatch,
    // The execution deadline lives here, inside the workflow, so compensation always runs after it.
    scheduleToCloseTimeout: `${plan.timeoutSeconds} seconds`,
    heartbeatTimeout: `${plan.heartbeatTimeoutSeconds} seconds`,
    // No attempt limit: a worker that dies or shuts down (a deploy) costs an attempt, and the run
    // re-attaches as often as it takes until the deadline. Failures that no retry can fix end it
    // at once by their type; an unexpected one after a few attempts (failure-classes.ts).
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', nonRetryableErrorTypes: permanentFailureTypes },
    // Wait for the activity to stop the agent process before compensation goes on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: 'run the agent',
  });
  const { stopAgent } = proxyActivities<ExecutionActivities>({
    // One try of one stop wait: if the process is not confirmed gone by then, the row ends anyway and
    // stopUntilGone goes on with the slot held.
    startToCloseTimeout: `${plan.stopWaitSeconds + 10} seconds`,
    retry: { maximumAttempts: 1 },
    summary: 'stop the agent process',
  });
  const { stopAgent: stopUntilGone } = proxyActivities<ExecutionActivities>({
    // Retried with backoff until the agent confirms the process ended, within a day; its slot is held meanwhile.
    // The execution's workflowExecutionTimeout counts this day in (execution-lifetime.ts).
    startToCloseTimeout: `${plan.stopWaitSeconds + 10} seconds`,
    scheduleToCloseTimeout: `${stopUntilGoneSeconds} seconds`,
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: permanentFailureTypes,
    },
    summary: 'keep stopping the agent process until it is gone',
  });
  return { acquireSlot, runAgent, stopAgent, stopUntilGone };
}
