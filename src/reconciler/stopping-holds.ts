import type { WorkflowClient } from '@temporalio/client';
import type { SlotHold } from '../store/slot-holds.js';

/** By default, a stop failing for this long is a problem (`executions problems`, the `stop_keeps_failing` alert). */
export const defaultStopAlertSeconds = 600;

/** A hold as Temporal sees it: the retries of the stop its workflow keeps making. */
export interface StoppingHold extends SlotHold {
  /** The attempt the workflow's pending stop activity is at; undefined when it has none pending or Temporal could not say. */
  attempt?: number;
  lastFailure?: string;
  /** Temporal could not be asked: why. */
  unknown?: string;
}

/** The workflow's pending stop (`stopAgent`): its attempt and last failure. */
export async function stoppingHold(workflows: WorkflowClient, hold: SlotHold): Promise<StoppingHold> {
  try {
    const { raw } = await workflows.getHandle(hold.executionId).describe();
    const stop = (raw.pendingActivities ?? []).find((activity) => activity.activityType?.name === 'stopAgent');
    return { ...hold, attempt: stop?.attempt ?? undefined, lastFailure: stop?.lastFailure?.message ?? undefined };
  } catch (err) {
    return { ...hold, unknown: (err as Error).message };
  }
}

/** How `executions show` says it. */
export function stoppingHoldText(hold: StoppingHold, time: (at: Date) => string): string {
  const attempt = hold.attempt !== undefined ? `attempt ${hold.attempt}, ` : '';
  const failure = hold.lastFailure ? `; last failure: ${hold.lastFailure}` : '';
  return `holding a capacity slot while stopping its process (${attempt}since ${time(hold.since)})${failure}`;
}

/** Holds whose stop has been failing for at least `thresholdSeconds`, with their attempts. */
export async function stopsKeepFailing(
  sources: { workflows: WorkflowClient; holds: () => Promise<SlotHold[]>; clock: () => number },
  thresholdSeconds: number,
): Promise<StoppingHold[]> {
  const old = (await sources.holds()).filter((hold) => sources.clock() - hold.since.getTime() >= thresholdSeconds * 1000);
  return Promise.all(old.map((hold) => stoppingHold(sources.workflows, hold)));
}
