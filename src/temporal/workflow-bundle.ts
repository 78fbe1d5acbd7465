import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowInterceptorModules } from '../tracing/worker-tracing.js';
import { workflowsPath } from './workflows-path.js';

/**
 * Bundles the workflow code once into `path`, for workers started with LIFELINE_WORKFLOW_BUNDLE:
 * bundling is the slow part of a worker's start, and several workers can share one bundle. `entry`
 * is another workflows module (a changed build, for rollout drills).
 */
export async function writeWorkflowBundle(path: string, entry: string = workflowsPath): Promise<string> {
  const bundle = await bundleWorkflowCode({ workflowsPath: entry, workflowInterceptorModules, logger: new DefaultLogger('WARN') });
  writeFileSync(path, bundle.code);
  return path;
}
