import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/util/wait-until.js';
import { freezeRun, waitForAgentProcess, waitForRunHeartbeat, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

/** More restarts than any attempt limit a run ever had (5): deploys must not use a run up. */
const gracefulRestarts = 7;
/** What the worker gives in-flight activities on shutdown before cancelling them (src/temporal/lifeline-worker.ts). */
const shutdownGraceSeconds = 10;

describe('a long run through rolling deploys', () => {
  let h: Harness;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 2 } }, worker: false });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await h?.close();
  });

  const reattachedAt = (worker: WorkerProcess, executionId: string) =>
    waitUntil(
      async () =>
        worker.lines.find((l) => l.entry.msg === 're-attached to the running agent execution' && l.entry.executionId === executionId)?.at,
      { what: `${worker.identity} to re-attach to ${executionId}`, timeoutMs: 30_000, intervalMs: 20, abortReason: worker.exitReason },
    );

  it('survives every graceful restart and a SIGKILL, re-attaching each time, and ends succeeded with one agent start', async () => {
    let current = await startWorkerProcess(h, 'deploy-0');
    workers.push(current);
    const { executionId } = await h.client.startExecution({
      agent: h.agent('demo'),
      prompt: 'succeed 10 survived the deploys',
      timeoutSeconds: 600,
    });
    await waitForRunHeartbeat(h, executionId);

    // The run is frozen through the deploys: it must still be running at the last of them, however
    // long they take on a loaded machine. It ends once thawed, its ten seconds long past.
    const frozen = freezeRun(await waitForAgentProcess(h, 'demo', executionId));
    const handovers: number[] = [];
    try {
      for (let i = 1; i <= gracefulRestarts; i += 1) {
        // A rolling deploy: the new worker is up before the old one is told to stop.
        const next = await startWorkerProcess(h, `deploy-${i}`);
        workers.push(next);
        const stoppedAt = Date.now();
        await current.kill('SIGTERM');
        handovers.push(((await reattachedAt(next, executionId)) - stoppedAt) / 1000);
        current = next;
      }
      await waitForRunHeartbeat(h, executionId);
      await current.kill('SIGKILL');
      const last = await startWorkerProcess(h, 'after-kill');
      workers.push(last);
      await reattachedAt(last, executionId);
    } finally {
      frozen.thaw();
    }

    const row = await h.client.waitForExecution(executionId, 90_000);
    expect(row).toMatchObject({ status: 'succeeded', errorKind: null });
    expect(row.output).toContain('survived the deploys');
    expect((await h.agentStarts())[executionId]).toBe(1);
    console.log(`graceful shutdown → re-attached on the next worker: ${handovers.map((s) => s.toFixed(1)).join(', ')} s`);
    // A drain hands the run over at once: seconds. Without it the old worker would hold the run for
    // the whole grace, and the retry would come a second after that.
    for (const seconds of handovers) expect(seconds).toBeLessThan(shutdownGraceSeconds);
    await waitForSlotReleased(h, 'demo', executionId);
    // Eight worker starts, each seconds long on 2 busy cores.
  }, 300_000);
});
