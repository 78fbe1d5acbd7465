import { Worker } from '@temporalio/worker';
import { benchActivities } from './bench-activities.js';
import type { BenchStack } from './bench-stack.js';

export interface InProcessWorker {
  worker: Worker;
  stop(): Promise<void>;
}

/** Runs a created worker until `stop()`. */
export function runWorker(worker: Worker): InProcessWorker {
  const done = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * A worker for the bench's own workflows. Like Lifeline's (src/temporal/lifeline-worker.ts) it
 * leaves every tuning option at the SDK default; `tuningOf` lets the caller check that they match.
 */
export async function startBenchWorker(
  bs: BenchStack,
  taskQueue: string,
  activities: Record<string, () => Promise<void>> = benchActivities,
): Promise<InProcessWorker> {
  const worker = await Worker.create({
    connection: bs.nativeConnection,
    namespace: bs.stack.namespace,
    taskQueue,
    workflowBundle: { codePath: bs.benchBundlePath },
    activities,
  });
  return runWorker(worker);
}

/** The options that bound a worker's throughput: slots, pollers, cache, rate limits. */
export function tuningOf(worker: Worker): Record<string, unknown> {
  const o = worker.options;
  return {
    tuner: o.tuner,
    maxCachedWorkflows: o.maxCachedWorkflows,
    workflowTaskPollerBehavior: o.workflowTaskPollerBehavior,
    activityTaskPollerBehavior: o.activityTaskPollerBehavior,
    nonStickyToStickyPollRatio: o.nonStickyToStickyPollRatio,
    stickyQueueScheduleToStartTimeoutMs: o.stickyQueueScheduleToStartTimeoutMs,
    workflowThreadPoolSize: o.workflowThreadPoolSize,
    reuseV8Context: o.reuseV8Context,
    maxActivitiesPerSecond: o.maxActivitiesPerSecond,
    maxTaskQueueActivitiesPerSecond: o.maxTaskQueueActivitiesPerSecond,
  };
}

/** Slots and pollers, the tuning that bounds concurrency, in a few words. */
export function slotsOf(worker: Worker): string {
  const { tuner, workflowTaskPollerBehavior: wft, activityTaskPollerBehavior: act } = worker.options;
  const size = (supplier: { type: string; numSlots?: number }) =>
    supplier.type === 'fixed-size' ? String(supplier.numSlots) : supplier.type;
  const pollers = (behavior: { type: string; maximum?: number }) =>
    behavior.type === 'simple-maximum' ? String(behavior.maximum) : behavior.type;
  return `${size(tuner.workflowTaskSlotSupplier)} workflow-task and ${size(tuner.activityTaskSlotSupplier)} activity slots, ${pollers(wft)} + ${pollers(act)} pollers`;
}
