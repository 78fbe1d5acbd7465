import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { InvalidExecutionInputError } from '../src/client/client-errors.js';
import { agentExecution } from '../src/workflows/agent-execution.js';
import { waitUntil } from '../src/util/wait-until.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { auditSteps, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { finishedRun, startMisbehavingAgent, type Misbehaviour, type MisbehavingAgent } from './support/misbehaving-agent.js';

/** Every ending here is decided by an agent's answer, never by a retry limit: seconds, not minutes. */
const endsWithinMs = 20_000;

describe('executions on agents that break the protocol, and input Postgres cannot store', () => {
  let h: Harness;
  const agents: MisbehavingAgent[] = [];
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5 } } });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await h?.close();
  });

  /** Registers a misbehaving agent server under a fresh name. */
  async function misbehavingAgent(behaviour: Misbehaviour): Promise<{ name: string; server: MisbehavingAgent }> {
    const server = await startMisbehavingAgent(behaviour);
    agents.push(server);
    const name = `broken-${uniqueSuffix()}`;
    await h.deps.agents.upsert({ name, baseUrl: server.url, token: literalToken('token'), capacity: 2, defaultTimeoutSeconds: null });
    return { name, server };
  }

  it('a finished run whose output cannot be read ends with its status and a note, never stays running', async () => {
    for (const get of [() => ({ status: 200, body: '<html>not json</html>' }), () => ({ status: 401, body: 'who are you?' })]) {
      const { name } = await misbehavingAgent({ start: (id) => ({ status: 201, body: finishedRun(id) }), get });
      const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
      const row = await h.client.waitForExecution(executionId, endsWithinMs);
      expect(row.status).toBe('succeeded');
      expect(row.output).toMatch(/^\[lifeline: output lost: the agent could not be asked for it/);
      await waitForSlotReleased(h, name, executionId);
    }
  });

  it('a run whose start answer has it ended, output and all, keeps that output without asking the agent again', async () => {
    const output = 'the whole transcript, in the start answer';
    const { name, server } = await misbehavingAgent({
      start: (id) => ({ status: 201, body: JSON.stringify({ ...JSON.parse(finishedRun(id)), output, outputBytes: output.length }) }),
      // Asked after all, this agent has lost the run: the row would end with the lost-output note.
      get: () => ({ status: 404, body: '{"error":"unknown execution"}' }),
    });
    const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
    const row = await h.client.waitForExecution(executionId, endsWithinMs);
    expect(row).toMatchObject({ status: 'succeeded', output, outputBytes: output.length });
    expect(server.requests.filter((r) => r.startsWith('GET'))).toEqual([]);
  });

  it('a start the agent refuses ends agent_rejected at once with its cause, and stops nothing', async () => {
    const { name, server } = await misbehavingAgent({ start: () => ({ status: 401, body: '{"error":"bad token"}' }) });
    const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
    const row = await h.client.waitForExecution(executionId, endsWithinMs);
    expect(row).toMatchObject({ status: 'failed', errorKind: 'agent_rejected' });
    expect(row.error).toContain('HTTP 401: bad token');
    expect(row.error).not.toContain('could not be confirmed stopped');
    expect(server.requests.filter((r) => r.endsWith('/stop'))).toEqual([]);
    await waitForSlotReleased(h, name, executionId);
  });

  it('a run is starting, not running, until the agent accepts its start', async () => {
    // The agent answers 500 to the start (overloaded, say) until the test lets it accept.
    let accepting = false;
    const { name, server } = await misbehavingAgent({
      start: (id) =>
        accepting
          ? { status: 201, body: JSON.stringify({ id, status: 'running', startedAt: new Date().toISOString() }) }
          : { status: 500, body: '{"error":"overloaded"}' },
      get: (id) => ({ status: 200, body: JSON.stringify({ id, status: 'running', startedAt: new Date().toISOString() }) }),
      stop: (id) => ({ status: 200, body: finishedRun(id, 'failed') }),
    });
    const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
    const starting = await waitUntil(
      async () => {
        const row = await h.executions.get(executionId);
        return row?.startSentAt && server.requests.filter((r) => r === 'POST /executions').length >= 2 ? row : undefined;
      },
      { what: 'the start to be sent, and refused, more than once', timeoutMs: endsWithinMs, intervalMs: 100 },
    );
    expect(starting).toMatchObject({ status: 'queued', startedAt: null });
    const shown = await runCli(['executions', 'show', executionId], cliEnvironment(h));
    expect(shown.stdout).toMatch(/^status +starting \(a worker sent the agent the start at .*; the agent has not accepted it yet\)$/m);
    expect(shown.stdout).not.toMatch(/^started /m);
    const listed = await runCli(['executions', 'list', '--agent', name], cliEnvironment(h));
    expect(listed.stdout).toMatch(new RegExp(`^${executionId} +${name} +default +starting `, 'm'));

    accepting = true;
    const running = await waitUntil(
      async () => ((await h.executions.get(executionId))?.status === 'running' ? h.executions.get(executionId) : undefined),
      {
        what: 'the row to turn running once the agent accepted',
        timeoutMs: endsWithinMs,
        intervalMs: 100,
      },
    );
    expect(running!.startedAt!.getTime()).toBeGreaterThanOrEqual(starting.startSentAt!.getTime());
    expect(running!.startSentAt).toEqual(starting.startSentAt);
    await h.client.stopExecution(executionId, 'seen it start');
    expect((await h.client.waitForExecution(executionId, endsWithinMs)).status).toBe('cancelled');
  });

  it('a malformed start answer ends agent_protocol_error within seconds, saying what was wrong', async () => {
    const { name } = await misbehavingAgent({
      start: () => ({ status: 201, body: '{"nonsense":true}' }),
      stop: () => ({ status: 200, body: 'still nonsense' }),
    });
    const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
    const row = await h.client.waitForExecution(executionId, endsWithinMs);
    expect(row).toMatchObject({ status: 'failed', errorKind: 'agent_protocol_error' });
    expect(row.error).toMatch(/malformed response/);
    // The stop was tried (the agent may have a process) and its own cause is named, not "Activity task failed".
    expect(row.error).toMatch(/could not be confirmed stopped: .*not JSON/);
  });

  it("Lifeline's client refuses a NUL character, naming the field", async () => {
    for (const request of [
      { prompt: 'succeed 0 a\u0000b' },
      { prompt: 'succeed 0', metadata: { note: 'x\u0000' } },
      { prompt: 'succeed 0', metadata: { 'key\u0000': 1 } },
      { prompt: 'succeed 0', scheduleId: 'nightly\u0000' },
    ]) {
      const attempt = h.client.startExecution({ agent: h.agent('demo'), ...request });
      await expect(attempt).rejects.toBeInstanceOf(InvalidExecutionInputError);
      const field = Object.keys(request).find((k) => k !== 'prompt') ?? 'prompt';
      await expect(attempt).rejects.toMatchObject({ issues: [expect.objectContaining({ field, message: expect.stringMatching(/NUL/) })] });
    }
  });

  it('a workflow started some other way with a NUL character ends failed/invalid_input with a row', async () => {
    const executionId = `raw-nul-${uniqueSuffix()}`;
    await h.temporal.workflow.start(agentExecution, {
      taskQueue: h.taskQueue,
      workflowId: executionId,
      args: [{ agent: h.agent('demo'), prompt: 'succeed 0 a\u0000b', busyPolicy: 'queue', trigger: 'raw', metadata: { k: 'v\u0000' } }],
    });
    const row = await h.client.waitForExecution(executionId, endsWithinMs);
    expect(row).toMatchObject({ status: 'failed', errorKind: 'invalid_input', prompt: 'succeed 0 a\uFFFDb', metadata: { k: 'v\uFFFD' } });
    expect(row.error).toMatch(/prompt, metadata: must not contain the NUL character/);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>failed']);
    expect((await h.agentStarts())[executionId]).toBeUndefined();
  });
});
