import { Context } from '@temporalio/activity';
import type { BusyPolicy } from '../domain/execution-types.js';
import type { ActivityDeps } from './activity-deps.js';
import { activityLogger } from './activity-logger.js';

export interface SlotRequest {
  agent: string;
  executionId: string;
  capacity: number;
  policy: BusyPolicy;
}

export function createSlotActivities(deps: ActivityDeps) {
  const { slots, settings } = deps;
  return {
    /**
     * `skip`: one attempt. `queue`: keeps its FIFO place and polls until admitted; the workflow
     * bounds the wait with this activity's schedule-to-close timeout (the queue timeout), and the
     * heartbeats make the wait cancellable and detect a dead worker.
     */
    async acquireSlot(req: SlotRequest): Promise<boolean> {
      const ctx = Context.current();
      if (req.policy === 'skip') return slots.tryAcquire(req.agent, req.executionId, req.capacity, 'skip');
      let polls = 0;
      for (;;) {
        if (await slots.tryAcquire(req.agent, req.executionId, req.capacity, 'queue')) {
          if (polls > 0) activityLogger(deps.log, req).info({ polls }, 'capacity slot acquired after waiting');
          return true;
        }
        polls += 1;
        ctx.heartbeat({ polls });
        await ctx.sleep(settings.pollIntervalMs);
      }
    },

    async releaseSlot(req: { agent: string; executionId: string }): Promise<boolean> {
      return slots.release(req.agent, req.executionId);
    },
  };
}
