import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRun, auditSteps, leaseHolders, probePid, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { protoText } from './support/history-text.js';

const mebibyte = 1024 * 1024;

/** Every byte of every payload and blob in a fetched history: what the execution put into Temporal. */
function bytesIn(value: unknown, seen = new Set<object>()): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return 0;
  seen.add(value);
  let total = 0;
  for (const v of Object.values(value)) total += bytesIn(v, seen);
  return total;
}

describe('agent executions that fail', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5 } } });
  });
  afterAll(async () => h?.close());

  it('records an agent failure with its exit code, runs the agent once and releases the slot', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'fail 3' });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('failed');
    expect(row.errorKind).toBe('agent_failed');
    expect(row.exitCode).toBe(3);
    expect(row.error).toMatch(/code 3/);
    expect((await h.agentStarts())[executionId]).toBe(1);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>running', 'running>failed']);
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it('times out a hanging run at its deadline and really ends the agent process', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang', timeoutSeconds: 2 });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    expect(probePid(pid)).toBe('alive');
    expect(await leaseHolders(h, 'demo')).toContain(executionId);

    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('timed_out');
    expect(row.errorKind).toBe('deadline_exceeded');
    expect(row.finishedAt!.getTime() - row.startedAt!.getTime()).toBeGreaterThanOrEqual(1_500);
    // The transcript of a run cut off at its deadline is exactly what an operator needs.
    expect(row.output).toContain(`execution ${executionId} hanging until signalled`);
    // The terminal row is written only after the stop was confirmed, so the process is gone by now.
    expect(probePid(pid)).toBe('ESRCH');
    const onAgent = await agentRun(h, 'demo', executionId);
    expect(onAgent?.status).toBe('cancelled');
    expect((await h.agentStarts())[executionId]).toBe(1);
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it('fails with agent_lost_execution when the agent restarts and forgets the run', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    expect(await leaseHolders(h, 'demo')).toContain(executionId);

    await h.restartAgentServer();
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('failed');
    expect(row.errorKind).toBe('agent_lost_execution');
    expect(row.error).toContain(executionId);
    // The restarted agent never saw the execution again: nothing started it a second time.
    expect((await h.agentStarts())[executionId]).toBeUndefined();
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it('stores 5 MB of output capped in Postgres and keeps it out of the workflow history', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'big-output 5' });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.outputTruncated).toBe(true);
    expect(row.outputBytes).toBeGreaterThanOrEqual(5 * mebibyte);
    const maxBytes = h.settings.maxOutputBytes;
    expect(row.output).toMatch(new RegExp(`\\n\\[lifeline: output truncated, kept ${maxBytes} of ${5 * mebibyte} bytes\\]$`));
    expect(Buffer.byteLength(row.output!)).toBeLessThan(maxBytes + 200);
    expect(row.output!.startsWith('demo agent: big output')).toBe(true);

    const handle = h.temporal.workflow.getHandle(executionId);
    const history = await handle.fetchHistory();
    const historyBytes = bytesIn(history);
    expect(history.events?.length ?? 0).toBeGreaterThan(5);
    expect(historyBytes).toBeLessThan(64 * 1024);
    // Payloads read as text (plain JSON.stringify would show bytes as numbers and could never match);
    // the prompt, which the history does hold, is the control.
    expect(protoText(history)).toContain('big-output 5');
    expect(protoText(history)).not.toContain('demo agent: big output');
    const { historySize } = await handle.describe();
    expect(historySize).toBeDefined();
    expect(historySize!).toBeLessThan(64 * 1024);
  });

  // Last: it takes the agent server down (and brings it back for whatever runs after).
  it('fails with agent_unreachable when the agent server goes away during the run', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    expect(await leaseHolders(h, 'demo')).toContain(executionId);

    const closedAt = Date.now();
    await h.agentServer().close();
    try {
      const row = await h.client.waitForExecution(executionId, 60_000);
      expect(row.status).toBe('failed');
      expect(row.errorKind).toBe('agent_unreachable');
      expect(row.error).toMatch(/unreachable/);
      // It rode out the outage for agentUnreachableSeconds before giving up.
      expect(row.finishedAt!.getTime() - closedAt).toBeGreaterThanOrEqual(h.settings.agentUnreachableSeconds * 1000 - 500);
      await waitForSlotReleased(h, 'demo', executionId);
    } finally {
      await h.restartAgentServer();
    }
  });
});
