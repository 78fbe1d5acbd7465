import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { ExecutionActivities } from '../contract/execution-activities.js';
import { workflowsPath } from '../temporal/workflows-path.js';
import { workerTracingOptions, workflowInterceptorModules } from '../tracing/worker-tracing.js';

export interface ExecutionWorkerOptions {
  taskQueue: string;
  /** Lifeline's real activities (`createActivities(deps)`) or stand-ins (`scriptedActivities().activities`). */
  activities: ExecutionActivities | Record<string, (...args: never[]) => Promise<unknown>>;
}

/** Worker options that run Lifeline's workflows on the environment: extend them (coverage, interceptors) before Worker.create. */
export function executionWorkerOptions(
  env: TestWorkflowEnvironment,
  opts: ExecutionWorkerOptions,
): WorkerOptions & { workflowsPath: string } {
  return {
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    workflowsPath,
    activities: opts.activities,
    ...workerTracingOptions(),
    interceptors: { workflowModules: workflowInterceptorModules },
  };
}

/** A worker running Lifeline's workflows with the activities given; use `worker.runUntil(promise)`. */
export async function createExecutionWorker(env: TestWorkflowEnvironment, opts: ExecutionWorkerOptions): Promise<Worker> {
  return Worker.create(executionWorkerOptions(env, opts));
}
