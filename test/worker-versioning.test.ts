import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../src/activities/index.js';
import { createLifelineWorker } from '../src/temporal/lifeline-worker.js';
import { deploymentBuilds, makeCurrentIfFirst, type BuildStatus } from '../src/temporal/worker-deployment.js';
import { waitUntil } from '../src/util/wait-until.js';
import { isolatedEnvironment } from '../tools/processes/isolated-environment.js';
import { runCli } from './support/cli-process.js';
import { waitForStatus } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';

const changedWorkflows = fileURLToPath(new URL('./fixtures/changed-workflow/index.ts', import.meta.url));
const { EventType } = proto.temporal.api.enums.v1;

/**
 * The rollout of changed workflow code under Worker Versioning, as the README describes it: the new
 * build's workers start, the operator makes it current, the old build's executions finish on the
 * old build and it reports drained. Without versioning the same change strands them (stuck-executions.test.ts).
 */
describe('a rollout of a new build with changed workflow code', () => {
  let h: Harness;
  const workers: { worker: Worker; run: Promise<void> }[] = [];
  const deploymentName = `roll-${uniqueSuffix()}`;
  beforeAll(async () => {
    h = await startHarness({ agents: { roll: { capacity: 25 } }, worker: false });
  });
  afterAll(async () => {
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.allSettled(workers.map((w) => w.run));
    await h?.close();
  });

  const start = (worker: Worker) => workers.push({ worker, run: worker.run() });

  it('keeps running executions on their build, starts new ones on the new build, and reports the old one drained', async () => {
    const env = isolatedEnvironment({
      LIFELINE_TEMPORAL_ADDRESS: inject('temporalAddress'),
      LIFELINE_TEMPORAL_NAMESPACE: h.namespace,
      LIFELINE_WORKER_VERSIONING: 'on',
      LIFELINE_DEPLOYMENT_NAME: deploymentName,
      DATABASE_URL: h.databaseUrl,
      REDIS_URL: h.redisUrl,
    });
    const { worker: oldBuild } = await createLifelineWorker({
      connection: h.nativeConnection,
      namespace: h.namespace,
      taskQueue: h.taskQueue,
      deps: h.deps,
      workflowBundlePath: inject('workflowBundlePath'),
      versioning: { deploymentName, buildId: 'build-a' },
    });
    start(oldBuild);
    await makeCurrentIfFirst(h.temporal, deploymentName, 'build-a', h.log);

    const running: string[] = [];
    for (let i = 0; i < 20; i++)
      running.push((await h.client.startExecution({ agent: h.agent('roll'), prompt: 'succeed 8 old' })).executionId);
    await waitUntil(async () => (await h.executions.list({ agent: h.agent('roll'), status: 'running', limit: 100 })).length === 20, {
      what: '20 executions running on build-a',
      timeoutMs: 60_000,
    });

    // The new build: changed workflow code that running executions could not replay.
    start(
      await Worker.create({
        connection: h.nativeConnection,
        namespace: h.namespace,
        taskQueue: h.taskQueue,
        workflowsPath: changedWorkflows,
        activities: createActivities(h.deps),
        workerDeploymentOptions: {
          useWorkerVersioning: true,
          version: { deploymentName, buildId: 'build-b' },
          defaultVersioningBehavior: 'PINNED',
        },
      }),
    );
    await waitUntil(async () => (await deploymentBuilds(h.temporal, deploymentName)).some((b) => b.buildId === 'build-b'), {
      what: 'build-b to register',
      timeoutMs: 60_000,
    });
    const made = await runCli(['deploy', 'set-current', 'build-b'], env);
    expect(made.code, made.stderr).toBe(0);

    const { executionId: fresh } = await h.client.startExecution({ agent: h.agent('roll'), prompt: 'succeed 0 new' });
    await waitForStatus(h, fresh, 'succeeded', 60_000);
    const freshVersion = (await h.temporal.workflow.getHandle(fresh).describe()).raw.workflowExecutionInfo?.versioningInfo
      ?.deploymentVersion;
    expect(freshVersion?.buildId).toBe('build-b');

    for (const id of running) {
      await waitForStatus(h, id, 'succeeded', 60_000);
      const history = await h.temporal.workflow.getHandle(id).fetchHistory();
      expect(
        history.events?.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) ?? [],
        `${id} failed no workflow task`,
      ).toEqual([]);
      const version = (await h.temporal.workflow.getHandle(id).describe()).raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion;
      expect(version?.buildId).toBe('build-a');
    }

    const drained = await runCli(['deploy', 'wait-drained', 'build-a', '--timeout', '90s'], env, 120_000);
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toContain('build build-a is drained');
    const status = await runCli(['deploy', 'status', '--json'], env);
    const builds = (JSON.parse(status.stdout) as { builds: BuildStatus[] }).builds;
    expect(Object.fromEntries(builds.map((b) => [b.buildId, b.status]))).toEqual({ 'build-a': 'drained', 'build-b': 'current' });
  }, 240_000);
});
