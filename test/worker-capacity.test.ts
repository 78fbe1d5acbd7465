import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/webhook.js';
import { buildLifelineDeps } from '../src/deps/build-lifeline-deps.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { waitUntil } from '../src/util/wait-until.js';
import { stateQuery } from '../src/workflows/execution-contract.js';
import { runningOnAgent, waitForStatus } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const runs = 150;
const workerLimit = 100;
const runSeconds = 20;

/**
 * More admitted runs than one worker may hold at once: `running` must still mean the agent has the
 * run, and the runs waiting for a worker must show in the live state, search attributes, metrics
 * and an alert (issue: rows said running while nothing ran).
 */
describe('runs beyond a worker’s limit of concurrent runs', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      agents: { wide: { capacity: runs, config: { command: ['sleep'] } } },
      // 150 runs polled by one worker: a calmer cadence than the other tests' keeps the machine responsive.
      settings: { pollIntervalMs: 1000, heartbeatTimeoutSeconds: 10 },
      maxConcurrentRuns: workerLimit,
    });
  });
  afterAll(async () => h?.close());

  it('marks a row running only when its agent process starts, and shows the rest waiting for a worker', async () => {
    const agent = h.agent('wide');
    const ids: string[] = [];
    for (let i = 0; i < runs; i++) {
      ids.push((await h.client.startExecution({ agent, prompt: String(runSeconds), timeoutSeconds: 300 })).executionId);
    }

    // Every running row has its process, and the worker's limit holds the rest back.
    let last = '';
    await waitUntil(
      async () => {
        const onAgent = new Set(await runningOnAgent(h, 'wide'));
        const running = (await h.executions.list({ agent, status: 'running', limit: 1000 })).map((row) => row.id);
        const awaiting = (await h.executions.awaitingWorker()).find((wait) => wait.agent === agent)?.count ?? 0;
        last = `${running.length} rows running, ${onAgent.size} processes, ${awaiting} awaiting a worker`;
        return (
          running.length === workerLimit &&
          onAgent.size === workerLimit &&
          running.every((id) => onAgent.has(id)) &&
          awaiting === runs - workerLimit
        );
      },
      {
        what: `${workerLimit} running rows, each with its agent process, and the rest awaiting a worker`,
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last: ${last}`);
    });

    const queued = await h.executions.list({ agent, status: 'queued', limit: 1000 });
    expect(queued).toHaveLength(runs - workerLimit);
    const waiting = queued[0]!;
    expect((await h.executions.get(waiting.id))?.slotAcquiredAt).toBeInstanceOf(Date);
    expect(await h.temporal.workflow.getHandle(waiting.id).query(stateQuery)).toMatchObject({ phase: 'awaiting_worker', status: 'queued' });

    const gauge = await h.deps.metrics.registry.getSingleMetric('lifeline_runs_awaiting_worker')!.get();
    expect(gauge.values.find((v) => v.labels.agent === agent)?.value).toBe(runs - workerLimit);

    await waitUntil(
      async () => {
        let found = 0;
        for await (const _ of h.temporal.workflow.list({ query: `LifelineAgent="${agent}" AND LifelinePhase="awaiting_worker"` })) found++;
        return found === runs - workerLimit;
      },
      { what: 'the waiting runs to be found by LifelinePhase="awaiting_worker"', timeoutMs: 20_000, intervalMs: 250 },
    );

    const alerts: Alert[] = [];
    const alerting = buildLifelineDeps({
      pool: h.pool,
      redis: h.redis,
      workflows: h.temporal.workflow,
      config: { ...h.depsConfig, reconciler: { ...h.depsConfig.reconciler, workerWaitAlertSeconds: 1 } },
      log: h.log,
      alerter: { send: async (alert) => alerts.push(alert) > 0 },
    });
    await waitUntil(async () => Date.now() - waiting.createdAt.getTime() > 1500, {
      what: 'the alert time to pass',
      timeoutMs: 5000,
      intervalMs: 100,
    });
    const report = await reconcileOnce(alerting, { sweep: 'anomalies', graceSeconds: 0 });
    expect(report.awaitingWorker).toBeGreaterThanOrEqual(runs - workerLimit);
    expect(report.recoveries).toEqual([]);
    expect(alerts.find((a) => a.kind === 'runs_waiting_for_worker')?.summary).toMatch(/wait for a worker.*LIFELINE_MAX_CONCURRENT_RUNS/);

    for (const id of ids) await waitForStatus(h, id, 'succeeded', 120_000);
    const wait = await h.deps.metrics.registry.getSingleMetric('lifeline_worker_wait_seconds')!.get();
    const slowest = wait.values.find(
      (v) => (v as { metricName?: string }).metricName === 'lifeline_worker_wait_seconds_sum' && v.labels.agent === agent,
    );
    // The last 50 waited for the first runs to end: about a run's length each.
    expect(slowest?.value).toBeGreaterThan((runs - workerLimit) * (runSeconds / 2));
  }, 240_000);
});
