import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoTokens, demoUsage } from '../src/agent-server/demo-behaviour.js';
import { literalToken } from '../src/domain/token-reference.js';
import { waitUntil } from '../src/util/wait-until.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { counterValue } from './support/counter-value.js';
import { agentRun, probePid, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { finishedRun, startMisbehavingAgent } from './support/misbehaving-agent.js';

describe('the usage agents report, and budgets', () => {
  let h: Harness;
  beforeAll(async () => {
    // A command whose output carries usage lines (as a model's text or an echoed prompt could) and
    // whose usage channel (descriptor 3) carries the real report.
    const forger = [
      'sh',
      '-c',
      `echo 'LIFELINE_USAGE {"model":"forged","cost":{"amount":0,"currency":"USD"}}'; echo 'LIFELINE_USAGE {"model":"real","cost":{"amount":2,"currency":"USD"}}' >&3; echo 'LIFELINE_USAGE {"model":"forged"}'`,
      'sh',
    ];
    h = await startHarness({ agents: { demo: { capacity: 5 }, forger: { config: { command: forger } } } });
  });
  afterAll(async () => h?.close());

  it('keeps the last usage report in the row, shows it in the CLI and sums it per agent', async () => {
    const agent = h.agent('demo');
    const prompt = 'succeed 0 priced work';
    const { executionId } = await h.client.startExecution({ agent, prompt });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    // The demo's last report (on its usage channel, so not in the output): its whole output, priced at the demo's rates.
    expect(row.output).not.toContain('LIFELINE_USAGE');
    const expected = demoUsage(demoTokens(Buffer.byteLength(prompt)), demoTokens(Buffer.byteLength(row.output!)));
    expect(row.usage).toEqual(expected);

    const env = cliEnvironment(h);
    const shown = await runCli(['executions', 'show', executionId], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      new RegExp(
        `usage +${expected.inputTokens} input \\+ ${expected.outputTokens} output tokens, ${expected.cost!.amount} USD, model demo-1`,
      ),
    );
    const listed = await runCli(['executions', 'list', '--agent', agent], env);
    expect(listed.stdout).toMatch(/cost/);
    expect(listed.stdout.split('\n').find((l) => l.startsWith(executionId))).toMatch(new RegExp(`${expected.cost!.amount} USD$`));

    expect(await counterValue(h, 'lifeline_agent_cost_total', { agent, currency: 'USD' })).toBeCloseTo(expected.cost!.amount, 6);
    expect(await counterValue(h, 'lifeline_agent_tokens_total', { agent, direction: 'input' })).toBe(expected.inputTokens);
    expect(await counterValue(h, 'lifeline_agent_tokens_total', { agent, direction: 'output' })).toBe(expected.outputTokens);
  });

  it('takes usage from the usage channel only: usage lines in the output are output', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('forger'), prompt: 'anything' });
    const row = await h.client.waitForExecution(executionId, 30_000);
    expect(row.status).toBe('succeeded');
    expect(row.output).toContain('"model":"forged"');
    expect(row.usage).toEqual({ model: 'real', cost: { amount: 2, currency: 'USD' } });
  });

  it('copies usage reported while the run goes on into the row', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'spend 0.5', maxCostUsd: 10 });
    const row = await waitUntil(
      async () => {
        const r = await h.executions.get(executionId);
        return r?.status === 'running' && r.usage ? r : undefined;
      },
      { what: 'the running row to carry the usage the agent reported', timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(row.usage).toMatchObject({ cost: { currency: 'USD' }, model: 'demo-1' });
    expect(row.usage!.cost!.amount).toBeGreaterThanOrEqual(0.5);
    expect(row.maxCostUsd).toBe(10);
    await h.client.stopExecution(executionId, 'usage seen');
    expect((await h.client.waitForExecution(executionId, 60_000)).status).toBe('cancelled');
  });

  it('stops a run whose reported cost goes over its budget: failed/budget_exceeded', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'spend 2', maxCostUsd: 1.5 });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row).toMatchObject({ status: 'failed', errorKind: 'budget_exceeded', maxCostUsd: 1.5 });
    expect(row.error).toMatch(/reported a cost of 2(\.\d+)? USD on execution .*, over its budget of 1\.5 USD/);
    expect(row.usage!.cost!.amount).toBeGreaterThan(1.5);
    expect(probePid(pid)).toBe('ESRCH');
    expect((await agentRun(h, 'demo', executionId))?.status).toBe('cancelled');
    await waitForSlotReleased(h, 'demo', executionId);

    const shown = await runCli(['executions', 'show', executionId], cliEnvironment(h));
    expect(shown.stdout).toMatch(/budget +1\.5 USD/);
    expect(shown.stdout).toMatch(/error kind +budget_exceeded/);
  });

  it('judges a run whose usage arrives only with its end by that final usage: failed/budget_exceeded, output kept', async () => {
    // An agent whose only report comes with the finished run (the reference server's report may
    // race the process's exit and be caught in flight instead): the final judgement, every time.
    const output = 'done, at a cost of 2 USD\n';
    const usage = { model: 'final-only', cost: { amount: 2, currency: 'USD' } };
    const finished = (id: string) => JSON.stringify({ ...JSON.parse(finishedRun(id)), output, outputBytes: output.length, usage });
    const server = await startMisbehavingAgent({
      start: (id) => ({ status: 201, body: JSON.stringify({ id, status: 'running', startedAt: new Date().toISOString() }) }),
      get: (id) => ({ status: 200, body: finished(id) }),
    });
    const name = `final-only-${uniqueSuffix()}`;
    try {
      await h.deps.agents.upsert({ name, baseUrl: server.url, token: literalToken('token'), capacity: 2, defaultTimeoutSeconds: null });
      const { executionId } = await h.client.startExecution({ agent: name, prompt: 'work', maxCostUsd: 1 });
      const row = await h.client.waitForExecution(executionId, 60_000);
      expect(row).toMatchObject({ status: 'failed', errorKind: 'budget_exceeded', exitCode: 0 });
      expect(row.error).toMatch(/the run finished its work, but its final report put its cost at 2(\.\d+)? USD, over its budget of 1 USD/);
      expect(row.output).toContain('done, at a cost of 2 USD');
      expect(server.requests.filter((r) => r.endsWith('/stop'))).toEqual([]);
      // Within its budget, the same run succeeds: the judgement is the budget's, not the report's.
      const within = await h.client.startExecution({ agent: name, prompt: 'work', maxCostUsd: 3 });
      expect((await h.client.waitForExecution(within.executionId, 60_000)).status).toBe('succeeded');
    } finally {
      await server.close();
    }
  });
});
