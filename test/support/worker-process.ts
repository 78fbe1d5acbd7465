import { inject } from 'vitest';
import { isolatedEnvironment } from '../../tools/processes/isolated-environment.js';
import { executionSettingsEnv } from '../../tools/processes/settings-env.js';
import { startWorkerProcess as startWorker, type WorkerProcess } from '../../tools/processes/worker-process.js';
import type { Harness } from './lifeline-harness.js';

export type { WorkerProcess };

/** A real worker process on the harness's task queue and servers; `env` adds or overrides its configuration. */
export function startWorkerProcess(h: Harness, identity: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  return startWorker({
    identity,
    env: {
      ...isolatedEnvironment(inject('temporalEnv')),
      ...executionSettingsEnv(h.settings),
      LIFELINE_TEMPORAL_NAMESPACE: h.namespace,
      LIFELINE_TASK_QUEUE: h.taskQueue,
      DATABASE_URL: h.databaseUrl,
      REDIS_URL: h.redisUrl,
      LIFELINE_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      LIFELINE_LOG_LEVEL: 'info',
      // Workers of several tests (and of a deploy) run side by side: none takes the fixed default port.
      LIFELINE_METRICS_PORT: '0',
      ...env,
    },
  });
}
