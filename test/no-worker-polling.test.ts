import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import type { Alert } from '../src/alerts/webhook.js';
import { parseStartRequest } from '../src/client/execution-input.js';
import { executionWorkflowOptions } from '../src/client/execution-workflow-options.js';
import type { LifelineDeps } from '../src/deps/lifeline-deps.js';
import { EncryptionCodec } from '../src/payload-codec/encryption-codec.js';
import type { ReconcileReport } from '../src/contract/reconcile-report.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import type { StuckExecution } from '../src/contract/reconcile-report.js';
import { waitUntil } from '../src/util/wait-until.js';
import { agentExecution } from '../src/workflows/agent-execution.js';
import { cliEnvironment, runCli, spawnCli } from './support/cli-process.js';
import { alertingDeps } from './support/alerting-deps.js';
import { auditSteps, waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';

/**
 * An execution started on a task queue that no worker polls (a misspelt LIFELINE_TASK_QUEUE, a
 * worker fleet that is down) is accepted by Temporal, but no workflow code of it ever runs, so no
 * row is written. From the moment the client accepts it, it must still be seen, stopped and
 * bounded. Payloads are encrypted here: its input is read from the start event through the codec.
 */
describe('an execution that no worker picks up', () => {
  let db: PrivateDatabase;
  let h: Harness;
  let alerts: Alert[];
  let alerting: LifelineDeps;
  let typo: string;
  let env: NodeJS.ProcessEnv;
  let typoEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // Reconcile cycles act on every row of their database: this file's rows live apart.
    db = await createPrivateDatabase('no_worker');
    const key = { id: 'k1', key: randomBytes(32) };
    h = await startHarness({ agents: { demo: { capacity: 2 } }, databaseUrl: db.url, codec: new EncryptionCodec([key]) });
    typo = `${h.taskQueue}-typo`;
    const codecEnv = { LIFELINE_CODEC_KEYS: `${key.id}:${key.key.toString('base64')}` };
    env = cliEnvironment(h, codecEnv);
    typoEnv = cliEnvironment(h, { ...codecEnv, LIFELINE_TASK_QUEUE: typo });
    // Every cycle alerts: other files' cycles in the namespace see this execution too, and would
    // otherwise use up its once-per-repeat alert (shared through Redis) before this test's cycle.
    ({ deps: alerting, alerts } = alertingDeps(h, { ...h.depsConfig, reconciler: { ...h.depsConfig.reconciler, alertRepeatSeconds: 0 } }));
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  /** Visibility lists a workflow a moment after its start or close: a cycle is judged once it does. */
  const visible = (query: string, what: string) =>
    waitUntil(async () => (await h.temporal.workflow.count(query)).count > 0, { what, timeoutMs: 30_000, intervalMs: 200 });

  it('is listed and alerted as no_worker_polling, shown, and stopped with a cancelled row; --wait says what it waits for', async () => {
    const executionId = `no-worker-${uniqueSuffix()}`;
    const prompt = 'succeed 0 on a misspelt task queue';
    // The scheduler's own start, with the misspelt queue and --wait.
    const waiting = spawnCli(
      ['executions', 'start', '--agent', h.agent('demo'), '--prompt', prompt, '--id', executionId, '--wait'],
      typoEnv,
    );
    let stdout = '';
    let stderr = '';
    waiting.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    waiting.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => waiting.once('close', resolve));
    try {
      // Accepted, with a warning at start, then what the wait waits for, once.
      await waitUntil(async () => stderr.includes(`waiting: no worker polls task queue ${typo}`), {
        what: '--wait to say that no worker polls its task queue',
        timeoutMs: 60_000,
        intervalMs: 100,
        hint: () => `stderr: ${stderr}`,
      });
      expect(stderr).toContain(`warning: no worker polls task queue ${typo}`);
      expect(stderr).toMatch(/is LIFELINE_TASK_QUEUE right\? are workers running\?/);
      expect(stderr.split(`waiting: no worker polls task queue ${typo}`)).toHaveLength(2);
      expect(await h.executions.get(executionId)).toBeUndefined();

      // The reconciler finds it within two cycles once visibility lists it, and alerts it.
      await visible(`WorkflowId = '${executionId}'`, `visibility to list ${executionId}`);
      let listed: StuckExecution | undefined;
      for (let cycle = 0; cycle < 2 && !listed; cycle += 1) {
        const report: ReconcileReport = await reconcileOnce(alerting, { sweep: 'anomalies' });
        listed = report.stuck.find((s) => s.executionId === executionId);
      }
      expect(listed).toMatchObject({ reason: 'no_worker_polling', agent: h.agent('demo'), taskQueue: typo });
      expect(listed?.rowStatus).toBeUndefined();
      expect(listed?.cause).toContain(`no worker polls task queue ${typo}`);
      expect(alerts.find((a) => a.kind === 'execution_stuck' && a.executionId === executionId)?.summary).toMatch(
        /no worker polls its task queue/,
      );
      const gauge = await alerting.metrics.registry.getSingleMetric('lifeline_executions_stuck')!.get();
      expect(gauge.values[0]?.value).toBeGreaterThanOrEqual(1);

      // Operators see it: problems lists it, show finds it without a row.
      const problems = await runCli(['executions', 'problems', '--json'], env);
      expect(problems.code, problems.stderr).toBe(0);
      expect((JSON.parse(problems.stdout) as { stuck: StuckExecution[] }).stuck.find((s) => s.executionId === executionId)).toMatchObject({
        reason: 'no_worker_polling',
        taskQueue: typo,
      });
      const shown = await runCli(['executions', 'show', executionId], env);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/status\s+not yet picked up by any worker/);
      expect(shown.stdout).toMatch(new RegExp(`task queue\\s+${typo}`));
      expect(shown.stdout).toMatch(new RegExp(`problem\\s+stuck: no worker polls task queue ${typo}`));
      expect(shown.stdout).toContain(prompt);

      // Stop: no row, slot or process exists, so its workflow is terminated and its row written.
      const stopped = await runCli(['executions', 'stop', executionId, '--reason', 'wrong task queue'], env);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toContain('no worker had picked it up');
      expect((await h.temporal.workflow.getHandle(executionId).describe()).status.name).toBe('TERMINATED');
      expect(await h.executions.get(executionId)).toMatchObject({
        status: 'cancelled',
        errorKind: 'cancelled_by_operator',
        agent: h.agent('demo'),
        prompt,
        trigger: 'cli',
        busyPolicy: 'queue',
      });
      expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>cancelled']);
      expect((await h.executions.transitions(executionId)).at(-1)).toMatchObject({ actor: 'operator', reason: 'wrong task queue' });

      // The wait ends with the row, and the start --wait exits 1: it did not succeed.
      expect(await exited).toBe(1);
      expect(stdout).toMatch(/status\s+cancelled/);
    } finally {
      if (waiting.exitCode === null) waiting.kill('SIGKILL');
    }

    // The next cycle neither lists nor records it again.
    const after = await reconcileOnce(alerting, { sweep: 'anomalies' });
    expect(after.stuck.map((s) => s.executionId)).not.toContain(executionId);
    expect(after.recoveries.filter((r) => r.executionId === executionId)).toEqual([]);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>cancelled']);
  });

  it('ends on Temporal after its workflow execution timeout, and the reconciler writes its terminal row', async () => {
    const executionId = `timed-out-${uniqueSuffix()}`;
    const { input } = parseStartRequest({
      agent: h.agent('demo'),
      prompt: 'succeed 0 never picked up',
      timeoutSeconds: 30,
      trigger: 'test',
    });
    // A start as the client makes it, with a timeout small enough to pass in the test.
    await h.temporal.workflow.start(agentExecution, {
      args: [input],
      workflowId: executionId,
      ...executionWorkflowOptions(input, typo),
      workflowExecutionTimeout: '2 seconds',
    });
    await waitUntil(async () => (await h.temporal.workflow.getHandle(executionId).describe()).status.name === 'TIMED_OUT', {
      what: `${executionId} to time out on Temporal`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    expect(await h.executions.get(executionId)).toBeUndefined();

    const report = await waitUntil(
      async () => {
        const cycle = await reconcileOnce(alerting, { sweep: 'anomalies' });
        return cycle.recoveries.some((r) => r.executionId === executionId) ? cycle : undefined;
      },
      { what: `a reconcile cycle to record ${executionId}`, timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(report.recoveries).toContainEqual(
      expect.objectContaining({ executionId, workflow: 'TIMED_OUT', action: 'recorded', status: 'timed_out', agent: h.agent('demo') }),
    );
    const row = await h.executions.get(executionId);
    expect(row).toMatchObject({
      status: 'timed_out',
      errorKind: 'never_picked_up',
      prompt: 'succeed 0 never picked up',
      trigger: 'test',
      timeoutSeconds: 30,
    });
    expect(row?.error).toContain(`task queue ${typo}`);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>timed_out']);
    expect((await h.executions.transitions(executionId)).map((t) => t.actor)).toEqual(['reconciler', 'reconciler']);
    expect(alerts.find((a) => a.kind === 'execution_recovered' && a.executionId === executionId)?.summary).toMatch(/timed_out/);

    // Recorded once: the next cycle finds its row and leaves it.
    const again = await reconcileOnce(alerting, { sweep: 'anomalies' });
    expect(again.recoveries.filter((r) => r.executionId === executionId)).toEqual([]);
  });

  it('a wait says when it waits for a capacity slot', async () => {
    const agent = h.agent('demo');
    const holders = await Promise.all([1, 2].map(async () => (await h.client.startExecution({ agent, prompt: 'hang' })).executionId));
    await Promise.all(holders.map((id) => waitForAgentProcess(h, 'demo', id)));
    const { executionId } = await h.client.startExecution({ agent, prompt: 'succeed 0 after a slot frees' });
    const messages: string[] = [];
    const waited = h.client.waitForExecution(executionId, 60_000, { onWaiting: (message) => messages.push(message), quietMs: 0 });
    await waitUntil(async () => messages.some((m) => m.startsWith(`waiting: queued for a capacity slot on agent ${agent} (all 2 taken)`)), {
      what: 'the wait to say that it waits for a capacity slot',
      timeoutMs: 30_000,
      hint: () => messages.join('\n'),
    });
    await h.client.stopExecution(holders[0]!, 'free a slot');
    expect((await waited).status).toBe('succeeded');
    await h.client.stopExecution(holders[1]!, 'test done');
    await waitForRowStatus(h.executions, holders[1]!, 'cancelled');
  });
});
