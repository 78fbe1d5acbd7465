import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from './workflows-path.js';

/**
 * Bundles the workflow code once into `path`, for workers started with LIFELINE_WORKFLOW_BUNDLE:
 * bundling is the slow part of a worker's start, and several workers can share one bundle.
 */
export async function writeWorkflowBundle(path: string): Promise<string> {
  const bundle = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  writeFileSync(path, bundle.code);
  return path;
}
