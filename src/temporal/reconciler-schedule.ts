import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleHandle } from '@temporalio/client';
import { reconcileWorkflow } from '../workflows/reconcile.js';

export function reconcilerScheduleId(taskQueue: string): string {
  return `lifeline-reconciler-${taskQueue}`;
}

/**
 * Creates (or updates the interval of) the Temporal Schedule that runs a reconcile cycle every
 * `intervalSeconds`. Overlapping cycles are skipped: one slow cycle never piles up others.
 */
export async function ensureReconcilerSchedule(
  client: Client,
  opts: { taskQueue: string; intervalSeconds: number },
): Promise<ScheduleHandle> {
  const scheduleId = reconcilerScheduleId(opts.taskQueue);
  const spec = { intervals: [{ every: opts.intervalSeconds * 1000 }] };
  try {
    return await client.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: reconcileWorkflow,
        workflowId: `lifeline-reconcile-${opts.taskQueue}`,
        taskQueue: opts.taskQueue,
        args: [{}],
        staticSummary: 'Lifeline reconcile cycle',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { note: 'Finalizes executions whose workflow closed without writing its row; releases leaked slots.' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    const handle = client.schedule.getHandle(scheduleId);
    await handle.update((previous) => ({ ...previous, spec }));
    return handle;
  }
}
