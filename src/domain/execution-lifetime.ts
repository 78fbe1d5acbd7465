import type { BusyPolicy } from './execution-types.js';
import { infrastructureBoundSeconds } from './failure-classes.js';

/**
 * How long an execution's workflow may legitimately live, so that Temporal's own
 * `workflowExecutionTimeout` can end an execution that no worker ever picked up (a task queue no
 * worker polls) without ever cutting off one whose agent still works. Pure: the client, the
 * schedules and the workflow share it.
 */

/** The longest run timeout and queue timeout an execution may set (the client's start-time limits, and the workers' settings' limits). */
export const maxTimeoutSeconds = 7 * 24 * 3600;
export const maxQueueTimeoutSeconds = 7 * 24 * 3600;

/** LIFELINE_STOP_WAIT_SECONDS' upper limit (src/config/config.ts; a unit test holds the two together). */
export const maxStopWaitSeconds = 3600;

/**
 * How long the workflow goes on stopping an agent process whose stop it could not confirm, its slot
 * held meanwhile: the schedule-to-close of its `stopUntilGone` activity (src/workflows/agent-execution.ts).
 */
export const stopUntilGoneSeconds = 24 * 3600;

/**
 * A short step (a local activity: admission, conclusion, the slot's release) retries an
 * infrastructure failure for `infrastructureBoundSeconds` after it was first scheduled, then one
 * more attempt (30 s start-to-close) after a backoff of at most 10 s.
 */
export const shortStepSeconds = infrastructureBoundSeconds + 60;

/**
 * Room beyond the steps' own bounds: a worker fleet that is down before it picks the execution up
 * (the workflow timeout counts from the start, the run's deadline only from its activity), and
 * the workflow tasks between steps.
 */
export const lifetimeMarginSeconds = 24 * 3600;

/** What of an execution's input the bound depends on. */
export interface LifetimeInput {
  timeoutSeconds?: number;
  queueTimeoutSeconds?: number;
  busyPolicy: BusyPolicy;
}

/**
 * The longest legitimate life of an execution's workflow, in seconds: admission, the wait for a
 * capacity slot (none with busy policy `skip`), the run (its deadline), one stop wait, the
 * conclusion, the stop of a process that was not confirmed gone, the slot's release, and the
 * margin. A timeout the input leaves to the agent or to the workers' settings, which the client
 * does not know at start (and which may change before a worker admits it), counts as the largest
 * one allowed: a bound that is late is harmless, one that is early would cut off a working run.
 */
export function executionLifetimeSeconds(input: LifetimeInput): number {
  const queue = input.busyPolicy === 'skip' ? 0 : (input.queueTimeoutSeconds ?? maxQueueTimeoutSeconds);
  const run = input.timeoutSeconds ?? maxTimeoutSeconds;
  const firstStop = maxStopWaitSeconds + 10;
  return shortStepSeconds + queue + run + firstStop + shortStepSeconds + stopUntilGoneSeconds + shortStepSeconds + lifetimeMarginSeconds;
}
