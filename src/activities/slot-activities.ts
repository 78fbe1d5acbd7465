import type { SlotRequest } from '../contract/execution-activities.js';
import { Context, type Info } from '@temporalio/activity';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { activityLogger } from './activity-logger.js';
import { slotStillHeld } from './admission-activities.js';
import { defaultTenant } from '../domain/tenants.js';
import { shareOf } from '../slots/tenant-shares.js';

/** How long before the activity's own deadline (the queue timeout) a queued acquire stops trying. */
const lateTryMarginMs = 1000;

/**
 * The last moment a queued acquire may still take a slot: the earlier of its schedule-to-close and
 * start-to-close deadlines, less a margin (at most half the timeout, so a short one still gets tries).
 */
function lastTryBefore(info: Info): number {
  const windows: [from: number, timeoutMs: number][] = [
    [info.scheduledTimestampMs, info.scheduleToCloseTimeoutMs],
    [info.currentAttemptScheduledTimestampMs, info.startToCloseTimeoutMs],
  ];
  const limits = windows
    .filter(([, timeoutMs]) => timeoutMs > 0)
    .map(([from, timeoutMs]) => from + timeoutMs - Math.min(lateTryMarginMs, timeoutMs / 2));
  return Math.min(Infinity, ...limits);
}

/** `executions` absent: tests of the wait alone, where no row records the slot. */
export function createSlotActivities(
  deps: Pick<LifelineDeps, 'slots' | 'settings' | 'clock' | 'log' | 'tenantSettings'> & Partial<Pick<LifelineDeps, 'executions'>>,
) {
  const { slots } = deps;
  const settings = deps.settings.execution;

  /**
   * One try of a queued acquire. Redis being down (restarting) counts as "no slot yet": the wait
   * stays bounded by the queue timeout, whereas a failed attempt that Temporal cannot retry before
   * that timeout would end the execution as failed with a Redis error instead of queue_timeout.
   */
  async function tryQueued(req: SlotRequest): Promise<boolean> {
    try {
      // Each try carries the tenant's settings as they are now: a change applies within a poll interval.
      const share = shareOf(await deps.tenantSettings(req.tenant ?? defaultTenant));
      return await slots.tryAcquire(req.agent, req.executionId, req.capacity, 'queue', share);
    } catch (err) {
      activityLogger(deps.log, req).warn({ err: (err as Error).message }, 'capacity slot try failed; still waiting');
      return false;
    }
  }

  /**
   * The slot taken, written to the row (what leases are rebuilt from when Redis loses them) and
   * confirmed still held after that write; false (the wait goes on) when Redis lost it meanwhile.
   */
  async function recorded(req: SlotRequest): Promise<boolean> {
    const { executions } = deps;
    if (!executions) return true;
    try {
      await executions.slotAcquired(req.executionId);
      return await slotStillHeld({ slots, executions }, req.agent, req.executionId, () => tryQueued(req));
    } catch (err) {
      // As with Redis in tryQueued: the wait goes on (its next try finds the lease it holds), bounded by the queue timeout.
      activityLogger(deps.log, req).warn({ err: (err as Error).message }, 'capacity slot could not be recorded; still waiting');
      return false;
    }
  }

  return {
    /**
     * The wait of a `queue` execution that found no free slot on admission: keeps its FIFO place
     * and polls until admitted. The workflow bounds the wait with this activity's schedule-to-close
     * timeout (the queue timeout); the heartbeats make it cancellable and detect a dead worker.
     */
    async acquireSlot(req: SlotRequest): Promise<true> {
      const ctx = Context.current();
      const stopTryingAt = lastTryBefore(ctx.info);
      let polls = 0;
      for (;;) {
        if (deps.clock() >= stopTryingAt) {
          // A slot taken past this point could arrive after the workflow gave up waiting and released
          // this execution's place: it would stay taken by a finished execution. Wait for the timeout.
          ctx.heartbeat({ polls, stoppedTrying: true });
          await ctx.sleep(settings.pollIntervalMs);
          continue;
        }
        if ((await tryQueued(req)) && (await recorded(req))) {
          if (polls > 0) activityLogger(deps.log, req).info({ polls }, 'capacity slot acquired after waiting');
          return true;
        }
        polls += 1;
        ctx.heartbeat({ polls });
        await ctx.sleep(settings.pollIntervalMs);
      }
    },
  };
}
