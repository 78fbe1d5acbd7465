import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { listStuckExecutions, stuckSourcesOf } from '../src/reconciler/stuck-executions.js';
import { type StuckExecution } from '../src/contract/reconcile-report.js';
import { waitUntil } from '../src/util/wait-until.js';
import { alertingDeps } from './support/alerting-deps.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { workerTracingOptions } from '../src/tracing/worker-tracing.js';

const changedWorkflows = fileURLToPath(new URL('../tools/workflow-change/changed-workflows.ts', import.meta.url));

/**
 * A workflow code change deployed without a new build: the running execution's workflow tasks fail
 * with a nondeterminism error on every try. Nothing may strand silently: the reconciler lists and
 * alerts it with its cause, the metric counts it, and the CLI shows it, while its row stays as it is.
 */
describe('an execution whose workflow cannot make progress', () => {
  let h: Harness;
  let changed: Worker | undefined;
  let changedRun: Promise<void> | undefined;
  beforeAll(async () => {
    h = await startHarness({ agents: { stuck: { capacity: 2 } } });
  });
  afterAll(async () => {
    changed?.shutdown();
    await changedRun?.catch(() => undefined);
    await h?.close();
  });

  it('is listed, alerted and counted with its cause, and its row is left alone', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('stuck'), prompt: 'hang', timeoutSeconds: 300 });
    await waitForAgentProcess(h, 'stuck', executionId);

    // The deploy: the released worker goes, one with changed workflow code (and no new build id) comes.
    await h.stopWorker();
    changed = await Worker.create({
      connection: h.nativeConnection,
      namespace: h.namespace,
      taskQueue: h.taskQueue,
      workflowsPath: changedWorkflows,
      activities: createActivities(h.deps),
      ...workerTracingOptions(),
    });
    changedRun = changed.run();
    // The operator's stop needs a workflow task, which now fails on every try.
    await h.client.stopExecution(executionId, 'stop after the deploy');

    let listed: StuckExecution | undefined;
    await waitUntil(
      async () => (listed = (await listStuckExecutions(stuckSourcesOf(h.deps))).stuck.find((s) => s.executionId === executionId)),
      {
        what: `execution ${executionId} to be listed as stuck`,
        timeoutMs: 90_000,
        intervalMs: 1000,
      },
    );
    expect(listed).toMatchObject({ agent: h.agent('stuck'), rowStatus: 'running' });
    expect(listed?.cause).toMatch(/NON_DETERMINISTIC|[Nn]ondetermin/);
    expect(listed?.attempts).toBeGreaterThanOrEqual(2);
    // A server without TemporalReportedProblems (older than 1.30): the same execution, found by describing running ones.
    const fallback = await listStuckExecutions({ ...stuckSourcesOf(h.deps), reportedProblems: false });
    expect(fallback.reportedProblems).toBe(false);
    expect(fallback.stuck.filter((s) => s.executionId === executionId)).toEqual([
      expect.objectContaining({ reason: 'workflow_task_failing', attempts: expect.any(Number) }),
    ]);

    const { deps: alerting, alerts } = alertingDeps(h);
    const report = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
    expect(report.stuck.map((s) => s.executionId)).toContain(executionId);
    expect(alerts.find((a) => a.kind === 'execution_stuck' && a.executionId === executionId)?.summary).toMatch(/cannot make progress/);
    // The next cycle still reports it, but the alert waits for LIFELINE_ALERT_REPEAT_SECONDS.
    const again = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
    expect(again.stuck.map((s) => s.executionId)).toContain(executionId);
    expect(alerts.filter((a) => a.kind === 'execution_stuck' && a.executionId === executionId)).toHaveLength(1);
    expect(report.recoveries.filter((r) => r.executionId === executionId)).toEqual([]);
    expect((await h.executions.get(executionId))?.status).toBe('running');

    const gauge = await alerting.metrics.registry.getSingleMetric('lifeline_executions_stuck')!.get();
    expect(gauge.values[0]?.value).toBeGreaterThanOrEqual(1);

    const env = cliEnvironment(h);
    const problems = await runCli(['executions', 'problems', '--json'], env);
    expect(problems.code, problems.stderr).toBe(0);
    expect((JSON.parse(problems.stdout) as { stuck: StuckExecution[] }).stuck.find((s) => s.executionId === executionId)).toMatchObject({
      rowStatus: 'running',
    });
    const shown = await runCli(['executions', 'show', executionId], env);
    expect(shown.stdout).toMatch(/problem\s+stuck: its workflow task failed \d+ times in a row/);

    // The runbook's way out when the old build cannot come back: terminate, and the reconciler finalizes.
    await h.temporal.workflow.getHandle(executionId).terminate('stuck after a bad deploy');
    await reconcileOnce(h.deps, { sweep: 'full', graceSeconds: 0 });
    expect(await h.executions.get(executionId)).toMatchObject({ status: 'cancelled', errorKind: 'closed_outside_workflow' });
  }, 180_000);
});
