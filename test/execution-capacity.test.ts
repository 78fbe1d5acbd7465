import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRun, auditSteps, leaseHolders, waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe('capacity slots of an agent with capacity 1', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { solo: { capacity: 1 } } });
  });
  afterAll(async () => h?.close());

  /** Holds the only slot with a hanging run until the returned function stops it. */
  async function holdTheSlot(): Promise<{ executionId: string; release: () => Promise<void> }> {
    const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'hang', busyPolicy: 'queue' });
    await waitForAgentProcess(h, 'solo', executionId);
    expect(await leaseHolders(h, 'solo')).toEqual([executionId]);
    return {
      executionId,
      release: async () => {
        await h.client.stopExecution(executionId, 'test done with the slot');
        expect((await h.client.waitForExecution(executionId, 60_000)).status).toBe('cancelled');
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
      expect(await leaseHolders(h, 'solo')).toEqual([holder.executionId]);
      expect(await h.slots.waiting(h.agent('solo'))).not.toContain(executionId);
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
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const [earlier, later] = [...rows].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());

    // The agent processes never overlapped: the later one started after the earlier one ended.
    const earlierRun = await agentRun(h, 'solo', earlier!.id);
    const laterRun = await agentRun(h, 'solo', later!.id);
    expect(Date.parse(laterRun!.startedAt)).toBeGreaterThanOrEqual(Date.parse(earlierRun!.finishedAt!));
    // The later row went running only once the earlier run had ended and given its slot back.
    expect(later!.startedAt!.getTime()).toBeGreaterThanOrEqual(Date.parse(earlierRun!.finishedAt!));
    expect(later!.startedAt!.getTime()).toBeGreaterThanOrEqual(earlier!.startedAt!.getTime() + 1000);
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
      expect(row.status).toBe('timed_out');
      expect(row.errorKind).toBe('queue_timeout');
      expect(row.startedAt).toBeNull();
      expect(row.finishedAt!.getTime() - row.createdAt.getTime()).toBeGreaterThanOrEqual(1_900);
      expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>timed_out']);
      expect((await h.executions.get(holder.executionId))?.status).toBe('running');
      expect((await h.agentStarts())[executionId]).toBeUndefined();
      expect(await leaseHolders(h, 'solo')).toEqual([holder.executionId]);
      expect(await h.slots.waiting(h.agent('solo'))).not.toContain(executionId);
    } finally {
      await holder.release();
    }
  });
});
