import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { waitUntil } from '../src/util/wait-until.js';
import { stateQuery } from '../src/contract/execution-contract.js';
import { runningOnAgent } from './support/execution-probes.js';
import { alertingDeps } from './support/alerting-deps.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const runs = 150;
const workerLimit = 100;

/**
 * Holds an exclusive lock on a file for as long as the test wants: the runs take a shared lock on
 * it and end once it is let go. The runs then end when the test has seen what it checks while they
 * run, not after a length of time the checks might outlast on a loaded machine.
 */
async function holdGate(path: string): Promise<{ open(): Promise<void> }> {
  // Agent processes of a server running as root run as nobody: they must be able to open it.
  chmodSync(dirname(path), 0o755);
  writeFileSync(path, '', { mode: 0o644 });
  // flock holds the lock while `cat` runs, and `cat` runs until its input ends.
  const holder = spawn('flock', [path, 'cat'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(holder, 'exit');
  // A holder that failed to start fails the wait below; its error is not also an unhandled rejection.
  exited.catch(() => undefined);
  await waitUntil(async () => spawnSync('flock', ['-n', '-s', path, 'true']).status === 1, {
    what: `the lock on ${path} to be held`,
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  return {
    async open() {
      holder.stdin.end();
      await exited;
    },
  };
}

/**
 * More admitted runs than one worker may hold at once: `running` must still mean the agent has the
 * run, and the runs waiting for a worker must show in the live state, search attributes, metrics
 * and an alert (issue: rows said running while nothing ran).
 */
describe('runs beyond a worker’s limit of concurrent runs', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-worker-capacity-'));
  const gatePath = join(dir, 'gate');
  let gate: Awaited<ReturnType<typeof holdGate>> | undefined;
  beforeAll(async () => {
    gate = await holdGate(gatePath);
    h = await startHarness({
      agents: { wide: { capacity: runs, config: { command: ['flock', '-s', gatePath, 'true'] } } },
      // 150 runs polled by one worker: a calmer cadence than the other tests' keeps the machine responsive.
      settings: { pollIntervalMs: 1000, heartbeatTimeoutSeconds: 10 },
      maxConcurrentRuns: workerLimit,
    });
  });
  afterAll(async () => {
    await gate?.open();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks a row running only when its agent process starts, and shows the rest waiting for a worker', async () => {
    const agent = h.agent('wide');
    const ids: string[] = [];
    for (let i = 0; i < runs; i++) {
      ids.push((await h.client.startExecution({ agent, prompt: 'until the gate opens', timeoutSeconds: 300 })).executionId);
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

    const { deps: alerting, alerts } = alertingDeps(h, {
      ...h.depsConfig,
      reconciler: { ...h.depsConfig.reconciler, workerWaitAlertSeconds: 1 },
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

    const gateOpenedAt = Date.now();
    await gate!.open();
    for (const id of ids) await waitForRowStatus(h.executions, id, 'succeeded', { timeoutMs: 120_000 });
    const wait = await h.deps.metrics.registry.getSingleMetric('lifeline_worker_wait_seconds')!.get();
    const total = wait.values.find(
      (v) => (v as { metricName?: string }).metricName === 'lifeline_worker_wait_seconds_sum' && v.labels.agent === agent,
    );
    // The last 50 held their slots waiting for a worker until the gate let the first runs end: at least that long each.
    const slotsHeldAt = await Promise.all(queued.map(async (row) => (await h.executions.get(row.id))!.slotAcquiredAt!.getTime()));
    const waitedAtLeast = slotsHeldAt.reduce((sum, at) => sum + (gateOpenedAt - at) / 1000, 0);
    expect(waitedAtLeast).toBeGreaterThan(0);
    expect(total?.value).toBeGreaterThanOrEqual(waitedAtLeast);
  }, 240_000);
});
