import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowInterceptorModules } from '../tracing/worker-tracing.js';
import { workflowsPath } from './workflows-path.js';

/** The workflow code a worker runs, and the build id it gets when none is configured. */
export interface WorkflowCode {
  code: string;
  /** `lifeline-<first 12 hex of the bundle's SHA-256>`: workflow code that changes gets a new build. */
  derivedBuildId: string;
}

/**
 * Loads a prebuilt workflow bundle, or bundles the workflows now (with the failure converter the
 * data converter names, as Worker.create would). The bundle is what the build id is derived from,
 * so two workers agree on their build exactly when they run the same workflow code.
 */
export async function loadWorkflowCode(opts: { bundlePath?: string; failureConverterPath?: string }): Promise<WorkflowCode> {
  const code = opts.bundlePath
    ? await readFile(opts.bundlePath, 'utf8')
    : (
        await bundleWorkflowCode({
          workflowsPath,
          workflowInterceptorModules,
          failureConverterPath: opts.failureConverterPath,
          logger: new DefaultLogger('WARN'),
        })
      ).code;
  return { code, derivedBuildId: `lifeline-${createHash('sha256').update(code).digest('hex').slice(0, 12)}` };
}
