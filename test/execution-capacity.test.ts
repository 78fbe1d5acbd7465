import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRow } from '../src/store/execution-reader.js';
import { waitUntil } from '../src/util/wait-until.js';
import { agentRun, auditSteps, leaseHolders, stopOnAgent, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const describeRow = (r: ExecutionRow) => `${r.id}: ${r.status} ${r.errorKind ?? ''} ${r.error ?? ''}`.trim();

describe('capacity slots of an agent with capacity 1', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { solo: { capacity: 1 } } });
  });
  afterAll(async () => h?.close());

  /** Holds the only slot with a hanging run; `release` stops it through Lifeline. */
  async function holdTheSlot(): Promise<{ executionId: string; release: () => Promise<void> }> {
    const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'hang', busyPolicy: 'queue' });
    await waitForAgentProcess(h, 'solo', executionId);
    expect(await leaseHolders(h, 'solo')).toEqual([executionId]);
    return {
      executionId,
      release: async () => {
        await h.client.stopExecution(executionId, 'test done with the slot');
        expect((await h.client.waitForExecution(executionId, 60_000)).status).toBe('cancelled');
        await waitForSlotReleased(h, 'solo', executionId);
      },
    };
  }

  it("busy policy 'skip' ends as skipped at once while the slot is taken", async () => {
    const holder = await holdTheSlot();
    try {
      const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 0 never', busyPolicy: 'skip' });
      const row = await h.client.waitForExecution(executionId, 30_000);
      expect(row.status).toBe('skipped');
      expect(row.errorKind).toBe('agent_busy');
      expect(row.startedAt).toBeNull();
      expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>skipped']);
      // Decided while the holder still runs, not after it ended.
      expect((await h.executions.get(holder.executionId))?.status).toBe('running');
      expect((await h.agentStarts())[executionId]).toBeUndefined();
      await waitForSlotReleased(h, 'solo', executionId);
      expect(await leaseHolders(h, 'solo')).toEqual([holder.executionId]);
    } finally {
      await holder.release();
    }
    expect(await leaseHolders(h, 'solo')).toEqual([]);
  });

  it("busy policy 'queue' runs the executions one after the other", async () => {
    const started = await Promise.all(
      ['first', 'second'].map((text) =>
        h.client.startExecution({ agent: h.agent('solo'), prompt: `succeed 1 ${text}`, busyPolicy: 'queue' }),
      ),
    );
    const rows = await Promise.all(started.map(({ executionId }) => h.client.waitForExecution(executionId, 60_000)));
    expect(rows.map(describeRow)).toEqual(rows.map((r) => `${r.id}: succeeded`));
    const [earlier, later] = [...rows].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());

    // The later row went running only once the earlier one had finished (the clock may tie).
    expect(later!.startedAt!.getTime()).toBeGreaterThanOrEqual(earlier!.finishedAt!.getTime());
    // And the agent processes never overlapped.
    const earlierRun = await agentRun(h, 'solo', earlier!.id);
    const laterRun = await agentRun(h, 'solo', later!.id);
    expect(Date.parse(laterRun!.startedAt)).toBeGreaterThanOrEqual(Date.parse(earlierRun!.finishedAt!));
    await waitForSlotReleased(h, 'solo', later!.id);
    expect(await leaseHolders(h, 'solo')).toEqual([]);
  });

  it('a queued execution times out with queue_timeout when no slot frees up in time', async () => {
    const holder = await holdTheSlot();
    try {
      const { executionId } = await h.client.startExecution({
        agent: h.agent('solo'),
        prompt: 'succeed 0 never',
        busyPolicy: 'queue',
        queueTimeoutSeconds: 2,
      });
      const row = await h.client.waitForExecution(executionId, 30_000);
      expect(describeRow(row)).toMatch(/: timed_out queue_timeout/);
      expect(row.startedAt).toBeNull();
      expect(row.finishedAt!.getTime() - row.createdAt.getTime()).toBeGreaterThanOrEqual(1_900);
      expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>timed_out']);
      expect((await h.executions.get(holder.executionId))?.status).toBe('running');
      expect((await h.agentStarts())[executionId]).toBeUndefined();
      // It leaves the queue, and the slot stays with the holder.
      await waitForSlotReleased(h, 'solo', executionId);
      expect(await leaseHolders(h, 'solo')).toEqual([holder.executionId]);
    } finally {
      await holder.release();
    }
  });

  it('an execution that timed out in the queue never takes the slot when it frees up right after', async () => {
    const holder = await holdTheSlot();
    const { executionId: timedOut } = await h.client.startExecution({
      agent: h.agent('solo'),
      prompt: 'succeed 0 never',
      busyPolicy: 'queue',
      queueTimeoutSeconds: 2,
    });
    expect((await h.client.waitForExecution(timedOut, 30_000)).errorKind).toBe('queue_timeout');
    const { executionId: next } = await h.client.startExecution({
      agent: h.agent('solo'),
      prompt: 'succeed 0 next in line',
      busyPolicy: 'queue',
      queueTimeoutSeconds: 20,
    });
    await waitUntil(async () => (await h.slots.waiting(h.agent('solo'))).includes(next), {
      what: `${next} to wait for the slot`,
      timeoutMs: 10_000,
      intervalMs: 20,
    });

    // Free the slot as fast as possible: stopped on the agent, the holder ends at its next poll.
    await stopOnAgent(h, 'solo', holder.executionId);
    expect((await h.client.waitForExecution(holder.executionId, 30_000)).errorKind).toBe('agent_cancelled');
    const row = await h.client.waitForExecution(next, 30_000);
    expect(describeRow(row)).toBe(`${next}: succeeded`);
    await waitForSlotReleased(h, 'solo', next);
    expect(await leaseHolders(h, 'solo')).toEqual([]);
    expect(await h.slots.waiting(h.agent('solo'))).toEqual([]);
  });
});
