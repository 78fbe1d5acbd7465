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
    // This test's workers alone, judging a worker dead after 20 s: the margins below then hold
    // however long a loaded machine takes to start the agent's process.
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
    const slowHeartbeat = { LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: '20' };
    const first = await startWorkerProcess(h, 'worker-c', slowHeartbeat);
    workers.push(first);
    // Finishes 6 s after its process starts, inside a 12 s timeout counted from scheduling (so up to
    // 6 s for the start itself); the worker dies 3 s into the run, and its heartbeat timeout (20 s,
    // 8 s past the deadline) runs past the deadline, so no attempt sees the run end: only the agent
    // knows it succeeded.
    const { executionId } = await h.client.startExecution({
      agent: h.agent('demo'),
      prompt: 'succeed 6 made it in time',
      timeoutSeconds: 12,
    });
    await waitForRunHeartbeat(h, executionId);
    const row0 = await h.executions.get(executionId);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, row0!.startedAt!.getTime() + 3000 - Date.now())));
    await first.kill('SIGKILL');
    workers.push(await startWorkerProcess(h, 'worker-d', slowHeartbeat));

    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row).toMatchObject({ status: 'succeeded', errorKind: null, exitCode: 0 });
    expect(row.output).toContain('made it in time');
    expect((await h.agentStarts())[executionId]).toBe(1);
    // The success came from the agent's record at the deadline (a retry that re-attached would have
    // seen it too): the run never completed, and the stop asked the agent.
    const { events } = await h.temporal.workflow.getHandle(executionId).fetchHistory();
    const scheduled = (name: string) => (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
    const runIds = new Set(scheduled('runAgent').map((e) => String(e.eventId)));
    expect((events ?? []).filter((e) => runIds.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)))).toEqual([]);
    expect(scheduled('stopAgent')).not.toEqual([]);
    await waitForSlotReleased(h, 'demo', executionId);
  });
});
