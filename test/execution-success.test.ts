import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe('an agent execution that succeeds', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 2 } } });
  });
  afterAll(async () => h?.close());

  it('ends succeeded with its output, a full audit trail and its slot released', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'succeed 0 hello lifeline' });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.output).toContain('hello lifeline');
    expect(row.errorKind).toBeNull();
    expect(row.finishedAt).not.toBeNull();
    const audit = await h.executions.transitions(executionId);
    expect(audit.map((t) => `${t.fromStatus ?? '-'}>${t.toStatus}`)).toEqual(['->queued', 'queued>running', 'running>succeeded']);
    expect(audit.every((t) => t.actor === 'workflow')).toBe(true);
    await waitForSlotReleased(h, 'demo', executionId);
    expect(await h.slots.leases(h.agent('demo'))).toEqual([]);
  });
});
