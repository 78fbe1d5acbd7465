import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedBeforeStart } from '../../src/activities/mark-running.js';
import type { ExecutionActivities } from '../../src/contract/execution-activities.js';
import type { StoppedRun } from '../../src/contract/execution-activities.js';
import type { ErrorKind } from '../../src/domain/execution-status.js';
import { waitForPhase } from '../../src/testing/wait-for.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { agentStartedSignal, stateQuery, stopSignal, type ExecutionPhase } from '../../src/contract/execution-contract.js';
import { recordedHistories } from '../support/recorded-histories.js';
import { startWorkflowRunner, type WorkflowRun, type WorkflowRunner } from '../support/workflow-runner.js';

/** The failure type the workflow failed with: the row's error kind. */
function failureKind(run: WorkflowRun): string | undefined {
  expect(run.error, 'the workflow should have failed').toBeInstanceOf(WorkflowFailedError);
  const cause = (run.error as WorkflowFailedError).cause;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : cause?.name;
}

/** A promise with its resolve, for an activity to wait on what the test does. */
function gate() {
  let isOpen = false;
  let resolve!: () => void;
  const opened = new Promise<void>((r) => (resolve = r));
  return {
    opened,
    isOpen: () => isOpen,
    open: () => {
      isOpen = true;
      resolve();
    },
  };
}

/** A run that goes on until the agent is told to stop, as a real agent process does. */
function runUntilStopped(defaults: ExecutionActivities): Partial<ExecutionActivities> {
  const stopped = gate();
  return {
    runAgent: async (input) => {
      await defaults.runAgent(input);
      await stopped.opened;
      return { status: 'cancelled', exitCode: 143, error: 'stopped', outputBytes: 0 };
    },
    stopAgent: async () => {
      stopped.open();
      return undefined;
    },
  };
}

/** Every attempt of the run is lost (a worker that dies each time): only the deadline ends it. */
const everyAttemptLost = async () => {
  throw new Error('the worker running this attempt was lost');
};

/** A heartbeating run that goes on until cancelled: an agent that ignores the stop. */
async function heartbeatUntilCancelled(): Promise<never> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(100);
  }
}

/** A drive for `run`: once the execution reaches the phase, acts on it as an operator would. */
function atPhase(phase: ExecutionPhase, act: (handle: WorkflowHandle) => Promise<unknown>) {
  return async (handle: WorkflowHandle) => {
    await waitForPhase(handle, phase);
    await act(handle);
  };
}

const secondsBetween = (from: Date | undefined, to: Date | undefined) => ((to?.getTime() ?? 0) - (from?.getTime() ?? 0)) / 1000;

/**
 * The wall time a run may take if its workflow time was skipped: a twentieth of that workflow time.
 * Without skipping it would take all of it; with it, seconds, but many more on a loaded machine
 * (each retry is an activity round trip).
 */
const skippedTimeLimitMs = (from: Date | undefined, to: Date | undefined) => (secondsBetween(from, to) * 1000) / 20;

/**
 * Every branch and compensation path of the execution workflow, with scripted activities on the
 * time-skipping test server: no Postgres, Redis or agent, and the long timers pass in seconds.
 */
describe('the execution workflow, branch by branch', () => {
  let wf: WorkflowRunner;
  beforeAll(async () => {
    wf = await startWorkflowRunner();
  });
  afterAll(async () => {
    const coverage = wf?.coverageOf('src/workflows/agent-execution.ts');
    if (coverage) {
      const { statements, branches, functions } = coverage.summary;
      console.log(
        `coverage of src/workflows/agent-execution.ts by workflow tests: statements ${statements.pct}% (${statements.covered}/${statements.total}), ` +
          `branches ${branches.pct}% (${branches.covered}/${branches.total}), functions ${functions.pct}%; ` +
          `uncovered lines: ${coverage.uncoveredLines.join(', ') || 'none'}; uncovered branches: ${coverage.uncoveredBranches.join(', ') || 'none'}`,
      );
    }
    await wf?.close();
  });

  it('succeeds, entering running when the agent has the run, and releases the slot', async () => {
    const run = await wf.run({});
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(run.scripted.calledActivities()).toEqual(['admit', 'runAgent', 'conclude']);
    expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'succeeded', actor: 'workflow' });
    expect(run.scripted.slotHolders('agent-a')).toEqual([]);
  });

  it('shows awaiting_worker until the run activity announces the agent has it, then running', async () => {
    const started = gate();
    const finish = gate();
    const run = await wf.run(
      {
        override: (defaults) => ({
          runAgent: async (input) => {
            await started.opened;
            const ran = defaults.runAgent(input);
            await finish.opened;
            return ran;
          },
        }),
      },
      {},
      async (handle) => {
        expect(await waitForPhase(handle, 'awaiting_worker')).toMatchObject({ status: 'queued' });
        started.open();
        expect(await waitForPhase(handle, 'running')).toMatchObject({ status: 'running' });
        // A re-attaching attempt announces again: nothing changes.
        await handle.signal(agentStartedSignal);
        expect(await handle.query(stateQuery)).toMatchObject({ phase: 'running', status: 'running' });
        finish.open();
      },
    );
    expect(run.result).toMatchObject({ status: 'succeeded' });
  });

  it('ends the default 900 s deadline as timed_out in seconds of wall time, and stops the agent', async () => {
    const run = await wf.run({ override: () => ({ runAgent: everyAttemptLost }) });
    expect(failureKind(run)).toBe('deadline_exceeded');
    expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'timed_out' });
    expect(run.scripted.calledActivities()).toContain('stopAgent');
    const { startTime, closeTime } = await run.handle.describe();
    // The last retry that would start past the deadline is not made: the deadline less one retry interval (10 s).
    expect(secondsBetween(startTime, closeTime)).toBeGreaterThan(890);
    expect(run.wallMs).toBeLessThan(skippedTimeLimitMs(startTime, closeTime));
    console.log(`900 s deadline: ${secondsBetween(startTime, closeTime)} s of workflow time in ${run.wallMs} ms of wall time`);
  });

  it('ends a one-hour wait for a slot as queue_timeout in seconds of wall time, never running the agent', async () => {
    const run = await wf.run({ heldSlots: { 'agent-a': ['someone-else'] } });
    expect(failureKind(run)).toBe('queue_timeout');
    expect(run.scripted.calledActivities()).not.toContain('runAgent');
    expect(run.scripted.slotHolders('agent-a')).toEqual(['someone-else']);
    const { startTime, closeTime } = await run.handle.describe();
    // The last one-minute retry that would pass the queue timeout is not made.
    expect(secondsBetween(startTime, closeTime)).toBeGreaterThan(3540);
    expect(run.wallMs).toBeLessThan(skippedTimeLimitMs(startTime, closeTime));
    console.log(`one-hour queue timeout: ${secondsBetween(startTime, closeTime)} s of workflow time in ${run.wallMs} ms of wall time`);
  });

  it('runs once a slot comes free while queued', async () => {
    let tries = 0;
    const run = await wf.run({
      heldSlots: { 'agent-a': ['someone-else'] },
      override: (defaults) => ({
        acquireSlot: async (request) => {
          // The other execution ends after a few tries: its slot is then free for this one.
          if (++tries === 3) await defaults.releaseSlot({ executionId: 'someone-else', agent: request.agent });
          return defaults.acquireSlot(request);
        },
      }),
    });
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(tries).toBe(3);
  });

  it('skips at once under busy policy skip', async () => {
    const run = await wf.run({ heldSlots: { 'agent-a': ['someone-else'] } }, { busyPolicy: 'skip' });
    expect(run.result).toMatchObject({ status: 'skipped', errorKind: 'agent_busy' });
    expect(run.scripted.calledActivities()).toEqual(['admit', 'conclude']);
  });

  it('runs nothing again for an execution whose row already ended (a Reset, a reused id)', async () => {
    const run = await wf.run({
      override: (defaults) => ({ admit: async (input) => ({ ...(await defaults.admit(input)), status: 'succeeded' }) }),
    });
    expect(failureKind(run)).toBe('already_finished');
    expect(run.scripted.calledActivities()).toEqual(['admit']);
  });

  it('leaves a row another hand ended before the agent got it: no stop, no write, the slot released', async () => {
    const run = await wf.run({
      override: () => ({ runAgent: async (input) => Promise.reject(closedBeforeStart(input.executionId, 'cancelled')) }),
    });
    expect(run.result).toMatchObject({ status: 'cancelled', errorKind: 'closed_outside_workflow' });
    expect(run.scripted.calledActivities()).toEqual(['admit', 'runAgent', 'conclude']);
    const conclusion = run.scripted.calls.at(-1)?.input as { outcome?: unknown; releaseSlot?: boolean };
    expect(conclusion.outcome).toBeUndefined();
    expect(conclusion.releaseSlot).toBe(true);
  });

  it('fails invalid input with a row that says why, without running anything', async () => {
    const run = await wf.run({ plan: { rejected: 'prompt: contains a NUL character' } });
    expect(failureKind(run)).toBe('invalid_input');
    expect(run.scripted.calledActivities()).toEqual(['admit', 'conclude']);
  });

  it('tells the agent to stop at once on the stop signal, and records the operator and reason', async () => {
    const run = await wf.run(
      { override: runUntilStopped },
      {},
      atPhase('running', (handle) => handle.signal(stopSignal, { reason: 'wrong prompt' })),
    );
    expect(run.result).toMatchObject({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
      error: 'stopped by operator: wrong prompt',
    });
    expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'cancelled', actor: 'operator' });
    expect(run.scripted.calledActivities().filter((a) => a === 'stopAgent')).toHaveLength(1);
  });

  it('ends Cancelled through Temporal, with a cancelled row', async () => {
    const run = await wf.run(
      { override: runUntilStopped },
      {},
      atPhase('running', (handle) => handle.cancel()),
    );
    expect((run.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'cancelled', outcome: { errorKind: 'cancelled_by_operator' } });
  });

  it('stops a queued execution: it leaves the queue and never runs', async () => {
    const run = await wf.run(
      // The in-memory wait retries a minute apart: the stop lands between tries, with no activity left running.
      { heldSlots: { 'agent-a': ['someone-else'] } },
      {},
      atPhase('acquiring_slot', (handle) => handle.signal(stopSignal, { reason: '' })),
    );
    expect(run.result).toMatchObject({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
      error: 'stopped by operator: no reason given',
    });
    expect(run.scripted.calledActivities()).not.toContain('runAgent');
    expect(run.scripted.calledActivities()).not.toContain('stopAgent');
  });

  it('honours a stop signalled before admission ends: the agent never gets the run', async () => {
    // Signal-with-start delivers the stop in the first workflow task, while admission runs.
    const run = await wf.run({}, {}, undefined, { stopReasonAtStart: 'changed my mind' });
    expect(run.result).toMatchObject({
      status: 'cancelled',
      errorKind: 'cancelled_by_operator',
      error: 'stopped by operator: changed my mind',
    });
    expect(run.scripted.calledActivities()).not.toContain('runAgent');
    expect(run.scripted.slotHolders('agent-a')).toEqual([]);
  });

  /** An agent that ignores stops (the run goes on until its activity is cancelled), stopped by an operator. */
  function stopAnIgnoringAgent(stopAgent: (defaults: ExecutionActivities) => ExecutionActivities['stopAgent']) {
    return wf.run(
      {
        plan: { heartbeatTimeoutSeconds: 5 },
        override: (defaults) => ({
          runAgent: async (input) => {
            await defaults.runAgent(input);
            return heartbeatUntilCancelled();
          },
          stopAgent: stopAgent(defaults),
        }),
      },
      {},
      atPhase('running', async (handle) => {
        await handle.signal(stopSignal, { reason: 'stuck' });
        // A second stop changes nothing: the first reason stands.
        await handle.signal(stopSignal, { reason: 'second thoughts' });
      }),
    );
  }

  it('keeps the slot of a process whose stop is not confirmed, ends the row, and releases it once the process is gone', async () => {
    let stops = 0;
    const run = await stopAnIgnoringAgent((defaults) => async (input) => {
      // The agent does not confirm the first stop; the second finds the process gone.
      if (++stops === 1) throw ApplicationFailure.create({ type: 'stop_pending', message: 'still running 30 s after stop' });
      return defaults.stopAgent(input);
    });
    expect(run.result).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator' });
    expect(run.result?.error).toMatch(
      /^stopped by operator: stuck \(the agent process could not be confirmed stopped: still running 30 s after stop\)$/,
    );
    expect(run.scripted.calledActivities().slice(-4)).toEqual(['stopAgent', 'conclude', 'stopAgent', 'releaseSlot']);
    expect(run.scripted.calls.find((c) => c.activity === 'conclude')?.input).toMatchObject({ releaseSlot: false, storeOutput: false });
    expect(run.scripted.slotHolders('agent-a')).toEqual([]);
  });

  it('releases the slot after giving up on a stop the agent refuses', async () => {
    const run = await stopAnIgnoringAgent(() => async () => {
      throw ApplicationFailure.create({ type: 'agent_rejected', message: 'token refused', nonRetryable: true });
    });
    expect(run.result?.error).toContain('could not be confirmed stopped: token refused');
    expect(run.scripted.calledActivities().at(-1)).toBe('releaseSlot');
    expect(run.scripted.slotHolders('agent-a')).toEqual([]);
  });

  it('keeps a run that succeeded as the stop came, noting that the stop could not be confirmed', async () => {
    const run = await wf.run(
      {
        override: (defaults) => {
          const stopAsked = gate();
          return {
            runAgent: async (input) => {
              // It finished before the stop was requested: it was scheduled earlier still.
              const finishedAt = new Date(Context.current().info.scheduledTimestampMs).toISOString();
              await defaults.runAgent(input);
              await stopAsked.opened;
              return { status: 'succeeded', exitCode: 0, error: null, outputBytes: 2, finishedAt };
            },
            stopAgent: async (input) => {
              // The first stop is not confirmed; the one that keeps the slot until the process is gone is.
              if (stopAsked.isOpen()) return defaults.stopAgent(input);
              stopAsked.open();
              throw ApplicationFailure.create({ type: 'stop_pending', message: 'agent busy' });
            },
          };
        },
      },
      {},
      atPhase('running', (handle) => handle.signal(stopSignal, { reason: 'too late' })),
    );
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(run.result?.error).toBe('(the agent process could not be confirmed stopped: agent busy)');
  });

  /**
   * The race between a stop (the `stop` signal or a Cancel) and the agent's own result: the agent
   * reports `succeeded`, exit 0, finished just before the stop was requested (when the run was
   * scheduled) or just after it (after the stop was scheduled), through the run activity (its poll
   * saw the end first) or through the stop's record (the run activity was cancelled first).
   */
  function raceWithStop(how: 'stop' | 'cancel', finished: 'before' | 'after', via: 'run' | 'stop') {
    return wf.run(
      {
        // A run that only ends when cancelled heartbeats: the runner's throttle sends them often enough for the cancel to reach it at once.
        ...(via === 'stop' && { plan: { heartbeatTimeoutSeconds: 5 } }),
        override: (defaults) => {
          const stopAsked = gate();
          let runScheduledAt = 0;
          let record: StoppedRun | undefined;
          return {
            runAgent: async (input) => {
              runScheduledAt = Context.current().info.scheduledTimestampMs;
              await defaults.runAgent(input);
              if (via === 'stop') return heartbeatUntilCancelled();
              await stopAsked.opened;
              return record!;
            },
            stopAgent: async () => {
              const finishedAt = finished === 'before' ? runScheduledAt : Context.current().info.scheduledTimestampMs + 1;
              record = { status: 'succeeded', exitCode: 0, error: null, outputBytes: 12, finishedAt: new Date(finishedAt).toISOString() };
              stopAsked.open();
              return record;
            },
          };
        },
      },
      {},
      atPhase('running', (handle) => (how === 'stop' ? handle.signal(stopSignal, { reason: 'wrong prompt' }) : handle.cancel())),
    );
  }

  for (const how of ['stop', 'cancel'] as const) {
    for (const via of ['run', 'stop'] as const) {
      it(`a ${how} wins over a success the agent reports as finished after it (seen by the ${via} activity), keeping its output`, async () => {
        const run = await raceWithStop(how, 'after', via);
        const row = [...run.scripted.rows.values()][0];
        const requested = how === 'stop' ? 'the stop was requested' : 'the cancel was requested';
        const note = new RegExp(`\\(the agent reported succeeded at \\S+, after ${requested} at \\S+\\)$`);
        expect(row).toMatchObject({ status: 'cancelled', outcome: { errorKind: 'cancelled_by_operator', exitCode: 0 } });
        expect(row?.outcome?.error).toMatch(note);
        const conclusion = run.scripted.calls.find((c) => c.activity === 'conclude')?.input as { reason?: string; storeOutput?: boolean };
        expect(conclusion.storeOutput).toBe(true);
        expect(conclusion.reason).toMatch(how === 'stop' ? /^wrong prompt \(the agent reported succeeded at / : note);
        if (how === 'stop') expect(run.result).toMatchObject({ status: 'cancelled', error: expect.stringMatching(note) as unknown });
        else expect((run.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      });

      it(`a success the agent reports as finished before the ${how} was requested wins (seen by the ${via} activity)`, async () => {
        const run = await raceWithStop(how, 'before', via);
        expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'succeeded', outcome: { exitCode: 0 } });
        expect(run.scripted.calls.find((c) => c.activity === 'conclude')?.input).toMatchObject({ storeOutput: true });
      });
    }
  }

  /** The run's attempts are lost until the deadline; the stop then finds the agent's record, finished just before or after it. */
  function raceWithDeadline(finished: 'before' | 'after') {
    const timeoutSeconds = 60;
    let deadline = 0;
    return wf.run(
      {
        override: (defaults) => ({
          runAgent: async (input) => {
            const { attempt, scheduledTimestampMs } = Context.current().info;
            if (attempt === 1) {
              // Scheduled a moment after the workflow took its deadline's start.
              deadline = scheduledTimestampMs + timeoutSeconds * 1000;
              await defaults.runAgent(input);
            }
            return everyAttemptLost();
          },
          stopAgent: async () => {
            const finishedAt = finished === 'before' ? deadline - 5000 : deadline + 1000;
            return { status: 'succeeded', exitCode: 0, error: null, outputBytes: 12, finishedAt: new Date(finishedAt).toISOString() };
          },
        }),
      },
      { timeoutSeconds },
    );
  }

  it('the deadline wins over a success the agent reports as finished after it, keeping its output', async () => {
    const run = await raceWithDeadline('after');
    expect(failureKind(run)).toBe('deadline_exceeded');
    const row = [...run.scripted.rows.values()][0];
    expect(row).toMatchObject({ status: 'timed_out', outcome: { errorKind: 'deadline_exceeded', exitCode: 0 } });
    expect(row?.outcome?.error).toMatch(/\(the agent reported succeeded at \S+, after its deadline at \S+\)$/);
    expect(run.scripted.calls.find((c) => c.activity === 'conclude')?.input).toMatchObject({
      storeOutput: true,
      reason: row?.outcome?.error,
    });
  });

  it('a success the agent reports as finished before the deadline wins', async () => {
    const run = await raceWithDeadline('before');
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect([...run.scripted.rows.values()][0]).toMatchObject({ status: 'succeeded', outcome: { exitCode: 0 } });
  });

  it('reports the outcome it meant when its row is gone (deleted by hand)', async () => {
    const run = await wf.run({ override: () => ({ conclude: async () => ({ status: undefined, applied: false }) }) });
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(run.scripted.calledActivities()).toEqual(['admit', 'runAgent', 'conclude']);
  });

  it('keeps the result of a run that ended by itself before its deadline, whatever the worker saw', async () => {
    const run = await wf.run(
      {
        override: () => ({
          runAgent: everyAttemptLost,
          stopAgent: async () => ({ status: 'succeeded', exitCode: 0, error: null, outputBytes: 12, finishedAt: new Date().toISOString() }),
        }),
      },
      { timeoutSeconds: 60 },
    );
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(run.scripted.calls.find((c) => c.activity === 'conclude')?.input).toMatchObject({ storeOutput: true });
  });

  it('re-attaches after a worker stops heartbeating (a dead worker): the next attempt has its heartbeat and starts nothing', async () => {
    const heartbeatRecorded = gate();
    const nextAttempt = gate();
    const lastBeat = { started: true, agentStatus: 'running', pid: 4242, polls: 3 };
    const attempts: { attempt: number; details: unknown }[] = [];
    let agentStarts = 0;
    let firstAttemptEndedBy: string | undefined;
    const run = await wf.run(
      {
        plan: { heartbeatTimeoutSeconds: 3 },
        override: (defaults) => ({
          runAgent: async (input) => {
            const ctx = Context.current();
            attempts.push({ attempt: ctx.info.attempt, details: ctx.info.heartbeatDetails });
            if (ctx.info.heartbeatDetails === undefined) {
              // As the real activity: no details from an earlier attempt, so it starts the agent.
              agentStarts += 1;
              await defaults.runAgent(input);
              while (!heartbeatRecorded.isOpen()) {
                ctx.heartbeat(lastBeat);
                await Promise.race([heartbeatRecorded.opened, ctx.sleep(100)]);
              }
              // Then its worker goes silent: no heartbeat, no result. Only Temporal's heartbeat
              // timeout can give the run to another attempt, and this one waits to see that happen.
              const giveUp = new AbortController();
              firstAttemptEndedBy = await Promise.race([
                nextAttempt.opened.then(() => 'the next attempt'),
                delay(60_000, 'itself', { signal: giveUp.signal }),
              ]);
              giveUp.abort();
              throw new Error('the worker running this attempt was lost');
            }
            nextAttempt.open();
            // Re-attached from the details: the agent has the run already; it announces again and succeeds.
            return defaults.runAgent(input);
          },
        }),
      },
      { timeoutSeconds: 60 },
      async (handle) => {
        // The server holds the details once it reports a heartbeat of the first attempt.
        await waitUntil(
          async () =>
            (await handle.describe()).raw.pendingActivities?.some(
              (a) => a.activityType?.name === 'runAgent' && a.attempt === 1 && a.lastHeartbeatTime,
            ),
          { what: "a heartbeat of the run's first attempt", timeoutMs: 30_000, intervalMs: 50 },
        );
        heartbeatRecorded.open();
        // The test server skips time only while the test waits for the result: until then the heartbeat
        // timeout passes in real time, and the second attempt runs to its end before any skip could
        // time it out on a loaded machine. Its end is read from the history: between two attempts
        // the test server may list no pending run activity at all.
        await waitUntil(async () => (await handle.fetchHistory()).events?.some((e) => e.activityTaskCompletedEventAttributes), {
          what: 'the run activity completed by its second attempt',
          timeoutMs: 60_000,
          intervalMs: 100,
        });
      },
    );
    expect(run.result).toMatchObject({ status: 'succeeded' });
    expect(firstAttemptEndedBy).toBe('the next attempt');
    expect(attempts).toEqual([
      { attempt: 1, details: undefined },
      { attempt: 2, details: lastBeat },
    ]);
    expect(agentStarts).toBe(1);
  });

  it('maps every failure of a run to its status and error kind, stopping the agent only where one may run', async () => {
    const permanent: ErrorKind[] = [
      'agent_rejected',
      'agent_protocol_error',
      'agent_lost_execution',
      'agent_unreachable',
      'agent_misconfigured',
      'invalid_input',
      'internal_error',
    ];
    const cases: {
      name: string;
      runAgent: () => Promise<never | { status: 'failed' | 'cancelled'; exitCode: number; error: string; outputBytes: number }>;
      kind: string;
      status: string;
      stops: boolean;
    }[] = [
      ...permanent.map((kind) => ({
        name: kind,
        runAgent: async () => Promise.reject(ApplicationFailure.create({ type: kind, message: `${kind} happened`, nonRetryable: true })),
        kind,
        status: 'failed',
        stops: kind !== 'agent_unreachable' && kind !== 'agent_lost_execution',
      })),
      {
        name: 'a start the agent refused',
        runAgent: async () =>
          Promise.reject(
            ApplicationFailure.create({ type: 'agent_rejected', message: '401', nonRetryable: true, details: [{ processStarted: false }] }),
          ),
        kind: 'agent_rejected',
        status: 'failed',
        stops: false,
      },
      {
        name: 'an agent whose token did not resolve before the start',
        runAgent: async () =>
          Promise.reject(
            ApplicationFailure.create({
              type: 'agent_misconfigured',
              message: 'agent "coder": token env:CODER_TOKEN is not set in the worker\'s environment',
              nonRetryable: true,
              details: [{ processStarted: false }],
            }),
          ),
        kind: 'agent_misconfigured',
        status: 'failed',
        stops: false,
      },
      {
        name: 'an unknown failure type',
        runAgent: async () => Promise.reject(ApplicationFailure.create({ type: 'SomethingOdd', message: 'odd', nonRetryable: true })),
        kind: 'internal_error',
        status: 'failed',
        stops: true,
      },
      {
        name: 'a failed run',
        runAgent: async () => ({ status: 'failed', exitCode: 2, error: 'exit 2', outputBytes: 0 }),
        kind: 'agent_failed',
        status: 'failed',
        stops: false,
      },
      {
        name: 'a run cancelled on the agent',
        runAgent: async () => ({ status: 'cancelled', exitCode: 143, error: 'killed', outputBytes: 0 }),
        kind: 'agent_cancelled',
        status: 'cancelled',
        stops: false,
      },
    ];
    for (const c of cases) {
      const run = await wf.run({ override: () => ({ runAgent: c.runAgent }) });
      const row = [...run.scripted.rows.values()][0];
      expect({
        case: c.name,
        status: row?.status,
        kind: row?.outcome?.errorKind,
        stops: run.scripted.calledActivities().includes('stopAgent'),
      }).toEqual({
        case: c.name,
        status: c.status,
        kind: c.kind,
        stops: c.stops,
      });
      if (c.status === 'failed') expect(failureKind(run)).toBe(c.kind);
    }
  });

  it('replays every recorded history of each earlier build and path without a nondeterminism error', async () => {
    // Open executions replay their history on whatever worker picks them up after a deploy (TMPRL1100 otherwise).
    const histories = recordedHistories();
    expect(histories.length).toBeGreaterThanOrEqual(41);
    expect(await wf.replay(histories)).toEqual([]);
  });

  it('replays histories recorded with payload encryption on only with their codec', async () => {
    const encrypted = recordedHistories().filter((h) => h.codecKeys !== undefined);
    expect(encrypted.map((h) => h.name.split('/').pop())).toEqual(['failed.binpb', 'stopped.binpb', 'succeeded.binpb', 'timed-out.binpb']);
    // Without the codec the same histories cannot be read: the replay above did decrypt them.
    expect(await wf.replay(encrypted, { ignoreCodec: true })).toHaveLength(encrypted.length);
  });
});
