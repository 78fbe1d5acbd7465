import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startScratchStack } from '../../src/stack/dev-stack.js';
import { createLogger } from '../../src/util/logger.js';
import { writeWorkflowBundle } from '../../src/temporal/workflow-bundle.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** The TEMPORAL_* variables that reach the test namespace: with TLS or a key on a secured server. */
    temporalEnv: Record<string, string>;
    namespace: string;
    temporalUiUrl: string;
    databaseUrl: string;
    redisUrl: string;
    workflowBundlePath: string;
    stackDir: string;
  }
}

/**
 * Starts one real stack (Temporal dev server, Postgres, Redis) for the whole run, on free ports
 * in a temp dir, and bundles the workflow code once; test files share both.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('test-stack', process.env.LIFELINE_LOG_LEVEL ?? 'warn');
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-test-'));
  const started = Date.now();
  const stack = await startScratchStack(dir, log);
  const workflowBundlePath = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
  console.log(`test stack up in ${Date.now() - started} ms (logs in ${dir})`);

  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('temporalEnv', { TEMPORAL_ADDRESS: stack.temporalAddress, TEMPORAL_NAMESPACE: stack.namespace });
  project.provide('namespace', stack.namespace);
  project.provide('temporalUiUrl', stack.temporalUiUrl ?? '');
  project.provide('databaseUrl', stack.databaseUrl);
  project.provide('redisUrl', stack.redisUrl);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('stackDir', dir);

  return async () => {
    await stack.stop();
    if (!process.env.LIFELINE_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
  };
}
