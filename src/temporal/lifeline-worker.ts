import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import { workflowsPath } from './workflows-path.js';

export interface LifelineWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: LifelineDeps;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
  identity?: string;
  shutdownGraceTime?: string;
  /** LIFELINE_MAX_CONCURRENT_RUNS; the SDK's default of 100 when unset. */
  maxConcurrentRuns?: number;
  /** Must match the clients' (see src/payload-codec/data-converter.ts). */
  dataConverter?: DataConverter;
}

/** A worker that runs Lifeline's workflows and activities on one task queue. */
export async function createLifelineWorker(opts: LifelineWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(opts.workflowBundlePath ? { workflowBundle: { codePath: opts.workflowBundlePath } } : { workflowsPath }),
    activities: createActivities(opts.deps),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    shutdownGraceTime: opts.shutdownGraceTime ?? '10 seconds',
    ...(opts.maxConcurrentRuns ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentRuns } : {}),
  });
}
