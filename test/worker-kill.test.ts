import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRunHeartbeat, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

describe('a worker killed in the middle of a run', () => {
  let h: Harness;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 2 } }, worker: false });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await h?.close();
  });

  it('is survived: another worker re-attaches to the same agent execution and the row ends succeeded', async () => {
    const first = await startWorkerProcess(h, 'worker-a');
    workers.push(first);
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'succeed 10 survived the kill' });
    // Killed only once Temporal holds the run's heartbeat: that is what the new worker re-attaches with.
    await waitForRunHeartbeat(h, executionId);
    expect((await h.agentStarts())[executionId]).toBe(1);

    await first.kill('SIGKILL');
    const killedAt = Date.now();
    const second = await startWorkerProcess(h, 'worker-b');
    workers.push(second);

    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.output).toContain('survived the kill');
    expect((await h.agentStarts())[executionId]).toBe(1);
    const reattach = second.lines.find(
      (l) => l.entry.msg === 're-attached to the running agent execution' && l.entry.executionId === executionId,
    );
    expect(reattach).toBeDefined();
    console.log(
      `worker kill → re-attach: ${((reattach!.at - killedAt) / 1000).toFixed(1)} s (heartbeat timeout ${h.settings.heartbeatTimeoutSeconds} s)`,
    );
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it("keeps the agent's own success when the worker dies too close to the deadline for a retry", async () => {
    const first = await startWorkerProcess(h, 'worker-c');
    workers.push(first);
    // Finishes at 4 s of a 5 s timeout; the worker dies at 3 s, and its heartbeat timeout (3 s) runs
    // past the deadline, so no attempt sees the run end: only the agent knows it succeeded.
    const { executionId } = await h.client.startExecution({
      agent: h.agent('demo'),
      prompt: 'succeed 4 made it in time',
      timeoutSeconds: 5,
    });
    await waitForRunHeartbeat(h, executionId);
    const row0 = await h.executions.get(executionId);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, row0!.startedAt!.getTime() + 3000 - Date.now())));
    await first.kill('SIGKILL');
    workers.push(await startWorkerProcess(h, 'worker-d'));

    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row).toMatchObject({ status: 'succeeded', errorKind: null, exitCode: 0 });
    expect(row.output).toContain('made it in time');
    expect((await h.agentStarts())[executionId]).toBe(1);
    await waitForSlotReleased(h, 'demo', executionId);
  });
});
