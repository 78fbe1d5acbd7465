import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { createActivities } from '../src/activities/index.js';
import type { ReconcileReport } from '../src/contract/reconcile-report.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import type { StuckExecution } from '../src/contract/reconcile-report.js';
import { createLifelineWorker } from '../src/temporal/lifeline-worker.js';
import { deploymentBuilds, makeCurrentIfFirst, setCurrentBuild, type BuildStatus } from '../src/temporal-api/worker-deployment.js';
import { waitUntil } from '../src/util/wait-until.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { alertingDeps } from './support/alerting-deps.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { workerTracingOptions } from '../src/tracing/worker-tracing.js';

const changedWorkflows = fileURLToPath(new URL('../tools/workflow-change/changed-workflows.ts', import.meta.url));
const { EventType } = proto.temporal.api.enums.v1;

/** Workers a test starts and stops itself; whatever still runs at the end is shut down. */
function runningWorkers() {
  const started: { worker: Worker; run: Promise<void> }[] = [];
  return {
    start(worker: Worker) {
      const one = { worker, run: worker.run() };
      started.push(one);
      return one;
    },
    async stopAll() {
      for (const { worker } of started) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(started.map((w) => w.run));
    },
  };
}

/**
 * The rollout of changed workflow code under Worker Versioning, as docs/operations.md describes it (Rollouts with Worker Versioning): the new
 * build's workers start, the operator makes it current, the old build's executions finish on the
 * old build and it reports drained. Without versioning the same change strands them (stuck-executions.test.ts).
 */
describe('a rollout of a new build with changed workflow code', () => {
  let h: Harness;
  const workers = runningWorkers();
  const deploymentName = `roll-${uniqueSuffix()}`;
  beforeAll(async () => {
    h = await startHarness({ agents: { roll: { capacity: 25 } }, worker: false });
  });
  afterAll(async () => {
    await workers.stopAll();
    await h?.close();
  });

  const start = (worker: Worker) => workers.start(worker);

  it('keeps running executions on their build, starts new ones on the new build, and reports the old one drained', async () => {
    const env = cliEnvironment(h, { LIFELINE_WORKER_VERSIONING: 'on', LIFELINE_DEPLOYMENT_NAME: deploymentName });
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

    // Waited for as started, not as running at once: on a loaded machine the first may have ended
    // before the last starts. Long enough that most still run when build-b becomes current.
    const running: string[] = [];
    for (let i = 0; i < 20; i++)
      running.push((await h.client.startExecution({ agent: h.agent('roll'), prompt: 'succeed 12 old' })).executionId);
    await waitUntil(async () => (await Promise.all(running.map((id) => h.executions.get(id)))).every((row) => row?.startedAt != null), {
      what: '20 executions started on build-a',
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
        ...workerTracingOptions(),
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
    await waitForRowStatus(h.executions, fresh, 'succeeded', { timeoutMs: 60_000 });
    const freshVersion = (await h.temporal.workflow.getHandle(fresh).describe()).raw.workflowExecutionInfo?.versioningInfo
      ?.deploymentVersion;
    expect(freshVersion?.buildId).toBe('build-b');

    for (const id of running) {
      await waitForRowStatus(h.executions, id, 'succeeded', { timeoutMs: 60_000 });
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

/**
 * The same rollout done wrongly: the old build's workers are stopped before its executions drained.
 * Nothing fails a workflow task (no worker picks one up), so only the task queue's pollers tell:
 * the reconciler lists, alerts and counts the executions pinned to the gone build, and bringing
 * its workers back (the runbook's first way out) lets them finish.
 */
describe('a build whose workers were stopped before it drained', () => {
  let h: Harness;
  const workers = runningWorkers();
  const deploymentName = `gone-${uniqueSuffix()}`;
  // Above the test server's 10 s long-poll expiry, so that an idle live worker never counts as gone.
  const workerGoneSeconds = 20;
  beforeAll(async () => {
    h = await startHarness({ agents: { gone: { capacity: 10 } }, worker: false });
  });
  afterAll(async () => {
    await workers.stopAll();
    await h?.close();
  });

  const startBuild = async (buildId: string) => {
    const { worker } = await createLifelineWorker({
      connection: h.nativeConnection,
      namespace: h.namespace,
      taskQueue: h.taskQueue,
      deps: h.deps,
      workflowBundlePath: inject('workflowBundlePath'),
      versioning: { deploymentName, buildId },
    });
    return workers.start(worker);
  };

  it('lists, alerts and counts its pinned executions until its workers come back; alerts a current build left without workers', async () => {
    const oldBuild = await startBuild('build-a');
    await makeCurrentIfFirst(h.temporal, deploymentName, 'build-a', h.log);
    const pinned: string[] = [];
    for (let i = 0; i < 3; i++)
      pinned.push((await h.client.startExecution({ agent: h.agent('gone'), prompt: `succeed 25 pinned-${i}` })).executionId);
    await waitUntil(async () => (await h.executions.list({ agent: h.agent('gone'), status: 'running', limit: 10 })).length === 3, {
      what: '3 executions running on build-a',
      timeoutMs: 60_000,
    });

    const newBuild = await startBuild('build-b');
    await waitUntil(async () => (await deploymentBuilds(h.temporal, deploymentName)).some((b) => b.buildId === 'build-b'), {
      what: 'build-b to register',
      timeoutMs: 60_000,
    });
    await setCurrentBuild(h.temporal, deploymentName, 'build-b', 'test');
    oldBuild.worker.shutdown();
    await oldBuild.run;
    const { executionId: fresh } = await h.client.startExecution({ agent: h.agent('gone'), prompt: 'succeed 0 on build-b' });
    await waitForRowStatus(h.executions, fresh, 'succeeded', { timeoutMs: 60_000 });

    const { deps: alerting, alerts } = alertingDeps(h, { ...h.depsConfig, reconciler: { ...h.depsConfig.reconciler, workerGoneSeconds } });
    const build = `${deploymentName}:build-a`;
    let report: ReconcileReport | undefined;
    await waitUntil(
      async () => {
        report = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
        return pinned.every((id) => report?.stuck.some((s) => s.executionId === id));
      },
      { what: 'the executions pinned to build-a to be reported stuck', timeoutMs: 90_000, intervalMs: 2000 },
    );
    for (const id of pinned) {
      expect(report?.stuck.find((s) => s.executionId === id)).toMatchObject({
        reason: 'no_worker_for_build',
        build,
        agent: h.agent('gone'),
        rowStatus: 'running',
      });
      expect(alerts.find((a) => a.kind === 'execution_stuck' && a.executionId === id)?.summary).toMatch(/no worker for its build/);
    }
    expect(report?.stuck.map((s) => s.executionId)).not.toContain(fresh);
    const gauge = await alerting.metrics.registry.getSingleMetric('lifeline_executions_stuck')!.get();
    expect(gauge.values[0]?.value).toBeGreaterThanOrEqual(3);

    const env = cliEnvironment(h, { LIFELINE_WORKER_GONE_SECONDS: String(workerGoneSeconds) });
    const problems = await runCli(['executions', 'problems', '--json'], env);
    expect(problems.code, problems.stderr).toBe(0);
    const listed = (JSON.parse(problems.stdout) as { stuck: StuckExecution[] }).stuck.filter((s) => pinned.includes(s.executionId));
    expect(listed.map((s) => s.reason)).toEqual(['no_worker_for_build', 'no_worker_for_build', 'no_worker_for_build']);
    const shown = await runCli(['executions', 'show', pinned[0]!], env);
    expect(shown.stdout).toMatch(new RegExp(`problem\\s+stuck: pinned to build ${build}, which no worker polls`));

    await startBuild('build-a');
    for (const id of pinned) await waitForRowStatus(h.executions, id, 'succeeded', { timeoutMs: 90_000 });
    const after = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
    expect(after.stuck.filter((s) => pinned.includes(s.executionId))).toEqual([]);
    expect(after.currentBuildsWithoutWorkers).toEqual([]);

    // Now the current build's workers go: new executions would wait without a trace, so it is alerted.
    newBuild.worker.shutdown();
    await newBuild.run;
    const gone = await waitUntil(
      async () => {
        const cycle = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
        return cycle.currentBuildsWithoutWorkers.length > 0 && cycle.currentBuildsWithoutWorkers;
      },
      { what: 'build-b to be reported current without workers', timeoutMs: 90_000, intervalMs: 2000 },
    );
    expect(gone).toEqual([{ deployment: deploymentName, build: 'build-b', buildsWithWorkers: ['build-a'] }]);
    expect(alerts.find((a) => a.kind === 'current_build_without_workers')?.summary).toContain('lifeline deploy set-current build-a');
    const status = await runCli(
      ['deploy', 'status'],
      cliEnvironment(h, { LIFELINE_DEPLOYMENT_NAME: deploymentName, LIFELINE_WORKER_GONE_SECONDS: String(workerGoneSeconds) }),
    );
    expect(status.stdout).toMatch(/build-b\s+current.*no workers/);
    const waiting = await runCli(
      ['executions', 'problems'],
      cliEnvironment(h, { LIFELINE_WORKER_GONE_SECONDS: String(workerGoneSeconds) }),
    );
    expect(waiting.stdout).toContain(`deployment ${deploymentName}: its current build build-b has no workers, so new executions wait`);
  }, 300_000);
});
