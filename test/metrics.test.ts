import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/util/wait-until.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

/** The value of one Prometheus sample, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe("the worker's Prometheus endpoint", () => {
  let h: Harness;
  let worker: WorkerProcess;
  let url: string;
  beforeAll(async () => {
    h = await startHarness({ agents: { measured: { capacity: 3 } }, worker: false });
    const port = await getPort({ host: '127.0.0.1' });
    worker = await startWorkerProcess(h, 'metrics-worker', { LIFELINE_METRICS_PORT: String(port) });
    url = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await h?.close();
  });

  it('exposes lifecycle series with the right counts, slots in use and the SDK runtime metrics', async () => {
    const agent = h.agent('measured');
    const ids = [];
    for (const prompt of ['succeed 0 one', 'succeed 0 two', 'fail 5'])
      ids.push((await h.client.startExecution({ agent, prompt })).executionId);
    const holder = (await h.client.startExecution({ agent, prompt: 'hang' })).executionId;
    for (const id of ids) await h.client.waitForExecution(id, 30_000);

    const text = await waitUntil(
      async () => {
        const body = await (await fetch(url)).text();
        const done = (sample(body, 'lifeline_executions_finished_total', { agent, status: 'succeeded' }) ?? 0) === 2;
        const held = sample(body, 'lifeline_slots_in_use', { agent }) === 1;
        // The holder's slot is taken a moment before its row is marked running, which records its wait.
        const allWaited = sample(body, 'lifeline_queue_wait_seconds_count', { agent }) === 4;
        return done && held && allWaited ? body : undefined;
      },
      { what: 'the metrics to show two successes, one held slot and four queue waits', timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(sample(text, 'lifeline_executions_started_total', { agent })).toBe(4);
    expect(sample(text, 'lifeline_executions_finished_total', { agent, status: 'failed', error_kind: 'agent_failed' })).toBe(1);
    expect(sample(text, 'lifeline_execution_duration_seconds_count', { agent, status: 'succeeded' })).toBe(2);
    expect(text).toMatch(/^temporal_\w+/m);
    // The worker triggers a reconcile cycle as it starts; the cycle reports its kind and cost.
    await waitUntil(async () => (sample(await (await fetch(url)).text(), 'lifeline_reconcile_cycle_seconds_count', {}) ?? 0) >= 1, {
      what: 'the metrics to show a reconcile cycle',
      timeoutMs: 30_000,
      intervalMs: 250,
    });

    await h.client.stopExecution(holder, 'metrics test done');
    await h.client.waitForExecution(holder, 30_000);
  });
});
