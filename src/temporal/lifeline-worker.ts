import type { DataConverter, Duration } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { LifelineDeps } from '../deps/lifeline-deps.js';
import type { Tracing } from '../tracing/tracing.js';
import { workerTracingOptions } from '../tracing/worker-tracing.js';
import { loadWorkflowCode } from './workflow-code.js';

export interface LifelineWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: LifelineDeps;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundlePath?: string;
  identity?: string;
  shutdownGraceTime?: Duration;
  /** LIFELINE_MAX_CONCURRENT_RUNS; the SDK's default of 100 when unset. */
  maxConcurrentRuns?: number;
  /** Must match the clients' (see src/payload-codec/data-converter.ts). */
  dataConverter?: DataConverter;
  /** Worker Versioning: the deployment this worker is a build of; the build id is derived from the workflow code unless given. */
  versioning?: { deploymentName: string; buildId?: string };
  /** Spans of the workflows and activities go there; without it, the workflows' spans are dropped. */
  tracing?: Tracing;
}

/** A worker, and the build of the Worker Deployment it polls as (unversioned: undefined). */
export interface LifelineWorker {
  worker: Worker;
  buildId: string | undefined;
}

/**
 * A worker that runs Lifeline's workflows and activities on one task queue. Versioned, each
 * execution stays pinned to the build it started on: a deploy of changed workflow code never
 * replays a running execution on code it did not start with.
 */
export async function createLifelineWorker(opts: LifelineWorkerOptions): Promise<LifelineWorker> {
  const workflowCode = await loadWorkflowCode({
    bundlePath: opts.workflowBundlePath,
    failureConverterPath: opts.dataConverter?.failureConverterPath,
  });
  const buildId = opts.versioning ? (opts.versioning.buildId ?? workflowCode.derivedBuildId) : undefined;
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: { code: workflowCode.code },
    activities: createActivities(opts.deps),
    ...workerTracingOptions(opts.tracing),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    shutdownGraceTime: opts.shutdownGraceTime ?? '10 seconds',
    ...(opts.maxConcurrentRuns ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentRuns } : {}),
    ...(opts.versioning && buildId
      ? {
          workerDeploymentOptions: {
            useWorkerVersioning: true,
            version: { deploymentName: opts.versioning.deploymentName, buildId },
            defaultVersioningBehavior: 'PINNED',
          },
        }
      : {}),
  });
  return { worker, buildId };
}
