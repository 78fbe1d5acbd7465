import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { counterValue } from './support/counter-value.js';
import { agentRun, probePid, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { finishedRun, startMisbehavingAgent, type MisbehavingAgent } from './support/misbehaving-agent.js';

const idleTimeoutSeconds = 5;

describe('runs judged by the progress their agent reports', () => {
  let h: Harness;
  let oldAgent: MisbehavingAgent | undefined;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5 }, quiet: { capacity: 2, defaultIdleTimeoutSeconds: idleTimeoutSeconds } } });
  });
  afterAll(async () => {
    await oldAgent?.close();
    await h?.close();
  });

  it('stops a run that prints once and then goes silent at its idle timeout: timed_out/agent_stalled', async () => {
    const agent = h.agent('demo');
    const { executionId } = await h.client.startExecution({ agent, prompt: 'hang', timeoutSeconds: 120, idleTimeoutSeconds });
    const pid = await waitForAgentProcess(h, 'demo', executionId);

    const row = await h.client.waitForExecution(executionId, 90_000);
    expect(row).toMatchObject({ status: 'timed_out', errorKind: 'agent_stalled', idleTimeoutSeconds });
    expect(row.error).toMatch(new RegExp(`no progress on execution ${executionId} for \\d+ s \\(idle timeout ${idleTimeoutSeconds} s`));
    // At its idle timeout, far from its deadline.
    const ranMs = row.finishedAt!.getTime() - row.startedAt!.getTime();
    expect(ranMs).toBeGreaterThanOrEqual(idleTimeoutSeconds * 1000 - 500);
    expect(ranMs).toBeLessThan(60_000);
    // The process is stopped before the row ends, and the transcript is kept.
    expect(probePid(pid)).toBe('ESRCH');
    expect((await agentRun(h, 'demo', executionId))?.status).toBe('cancelled');
    expect(row.output).toContain(`execution ${executionId} hanging until signalled`);
    expect(row.lastProgressAt).toBeInstanceOf(Date);
    await waitForSlotReleased(h, 'demo', executionId);
    expect(await counterValue(h, 'lifeline_runs_stalled_total', { agent })).toBe(1);
  });

  it("judges an execution that sets no idle timeout by its agent's default", async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('quiet'), prompt: 'hang', timeoutSeconds: 120 });
    const row = await h.client.waitForExecution(executionId, 90_000);
    expect(row).toMatchObject({ status: 'timed_out', errorKind: 'agent_stalled', idleTimeoutSeconds });
    expect(row.finishedAt!.getTime() - row.startedAt!.getTime()).toBeLessThan(60_000);
  });

  it('lets a run that keeps printing go on past its idle timeout', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'progress 9', idleTimeoutSeconds });
    const row = await h.client.waitForExecution(executionId, 90_000);
    expect(row).toMatchObject({ status: 'succeeded', errorKind: null });
    expect(row.finishedAt!.getTime() - row.startedAt!.getTime()).toBeGreaterThan(idleTimeoutSeconds * 1000);
    expect(row.output).toContain('still working (9/9 s)');
  });

  it('runs an agent that reports neither progress nor usage (protocol 1) as before, idle timeout and budget unjudged', async () => {
    const startedAt = new Date().toISOString();
    let finishAfter = Infinity;
    oldAgent = await startMisbehavingAgent({
      start: (id) => {
        // Counted from the start itself, so a slow admission on a loaded machine does not shorten the run.
        finishAfter = Date.now() + (idleTimeoutSeconds + 4) * 1000;
        return { status: 201, body: JSON.stringify({ id, status: 'running', startedAt }) };
      },
      get: (id) => ({
        status: 200,
        body: Date.now() < finishAfter ? JSON.stringify({ id, status: 'running', startedAt, outputBytes: 0 }) : finishedRun(id),
      }),
      stop: (id) => ({ status: 200, body: finishedRun(id) }),
    });
    const name = `old-protocol-${uniqueSuffix()}`;
    await h.deps.agents.upsert({ name, baseUrl: oldAgent.url, token: literalToken('token'), capacity: 1, defaultTimeoutSeconds: null });
    const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything', idleTimeoutSeconds, maxCostUsd: 0.01 });
    const row = await h.client.waitForExecution(executionId, 90_000);
    expect(row).toMatchObject({ status: 'succeeded', lastProgressAt: null, usage: null, maxCostUsd: 0.01 });
    expect(row.finishedAt!.getTime() - row.startedAt!.getTime()).toBeGreaterThan(idleTimeoutSeconds * 1000);
    expect(oldAgent.requests.filter((r) => r.endsWith('/stop'))).toEqual([]);
  });
});
