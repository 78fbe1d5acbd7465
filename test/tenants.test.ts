import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { searchAttributes } from '../src/domain/search-attributes.js';
import { waitUntil } from '../src/util/wait-until.js';
import { startCycle } from '../src/reconciler/cycle.js';
import { reportTenantBudgets } from '../src/reconciler/tenant-budgets.js';
import { alertingDeps } from './support/alerting-deps.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';

describe('tenants: limits, budgets and the CLI, on real executions', () => {
  let h: Harness;
  const suffix = uniqueSuffix();
  const tenant = (name: string) => `${name}-${suffix}`;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 3 } } });
  });
  afterAll(async () => h?.close());

  it('keeps a tenant within its per-agent limit, and a limit raised while its runs queue applies at once', async () => {
    const team = tenant('limited');
    await h.deps.tenants.set(team, { maxRunningPerAgent: 1 });
    const agent = h.agent('demo');
    const first = await h.client.startExecution({ agent, tenant: team, prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', first.executionId);
    const second = await h.client.startExecution({ agent, tenant: team, prompt: 'succeed 0 second' });
    // The agent has room, and another tenant's run takes it while the limited tenant's waits.
    const other = await h.client.startExecution({ agent, tenant: tenant('other'), prompt: 'succeed 0 other' });
    expect((await h.client.waitForExecution(other.executionId, 30_000)).status).toBe('succeeded');
    expect((await h.executions.get(second.executionId))?.status).toBe('queued');

    const raised = await runCli(['tenants', 'set', team, '--max-running-per-agent', '2'], cliEnvironment(h));
    expect(raised.code).toBe(0);
    expect(raised.stdout).toMatch(new RegExp(`tenant ${team} saved: .*max running none \\(2 per agent\\)`));
    expect((await h.client.waitForExecution(second.executionId, 30_000)).status).toBe('succeeded');
    expect((await h.executions.get(first.executionId))?.status).toBe('running');
    await h.client.stopExecution(first.executionId, 'test done');
    await waitForRowStatus(h.executions, first.executionId, 'cancelled');
  });

  it('refuses a run at admission once its tenant has spent its daily budget, with a row that says so', async () => {
    const team = tenant('thrifty');
    const agent = h.agent('demo');
    const spending = await h.client.startExecution({ agent, tenant: team, prompt: 'charge 2' });
    expect((await h.client.waitForExecution(spending.executionId, 30_000)).status).toBe('succeeded');
    await h.deps.tenants.set(team, { dailyBudgetUsd: 1.5 });

    const refused = await h.client.startExecution({ agent, tenant: team, prompt: 'succeed 0 never runs' });
    const row = await h.client.waitForExecution(refused.executionId, 30_000);
    expect(row).toMatchObject({ status: 'skipped', errorKind: 'tenant_over_budget', tenant: team, startedAt: null });
    expect(row.error).toMatch(new RegExp(`tenant "${team}" has spent 2 USD of its daily budget of 1\\.5 USD`));
    expect((await h.agentStarts())[refused.executionId]).toBeUndefined();
    // Another tenant is not held back.
    const other = await h.client.startExecution({ agent, tenant: tenant('flush'), prompt: 'succeed 0 runs' });
    expect((await h.client.waitForExecution(other.executionId, 30_000)).status).toBe('succeeded');
  });

  it('alerts when a tenant has spent 80 % of a budget, and when it has spent all of it', async () => {
    const [near, over] = [tenant('near'), tenant('over')];
    for (const team of [near, over]) {
      const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), tenant: team, prompt: 'charge 2' });
      expect((await h.client.waitForExecution(executionId, 30_000)).status).toBe('succeeded');
    }
    await h.deps.tenants.set(near, { monthlyBudgetUsd: 2.4 });
    await h.deps.tenants.set(over, { dailyBudgetUsd: 2, overBudget: 'finish' });
    const { deps, alerts } = alertingDeps(h, { ...h.depsConfig, reconciler: { ...h.depsConfig.reconciler, alertRepeatSeconds: 0 } });
    await reportTenantBudgets(startCycle(deps, false, 'anomalies'));
    const about = (team: string) => alerts.filter((a) => a.details?.tenant === team);
    expect(about(near)).toHaveLength(1);
    expect(about(near)[0]).toMatchObject({ kind: 'tenant_budget_warning', details: { period: 'month', percent: 83 } });
    expect(about(near)[0]!.summary).toMatch(/has spent 83 % of its monthly budget \(2\.00 of 2\.4 USD\)/);
    expect(about(over)).toHaveLength(1);
    expect(about(over)[0]).toMatchObject({ kind: 'tenant_budget_spent', details: { period: 'day' } });
    expect(about(over)[0]!.summary).toMatch(/has spent 2 USD of its daily budget of 2 USD; .*runs in flight are left to finish/);
  });

  it("stops a tenant's runs in flight when its spend crosses a budget under `stop`, and leaves them to finish under `finish`", async () => {
    const [stopping, finishing] = [tenant('stopper'), tenant('finisher')];
    await h.deps.tenants.set(stopping, { dailyBudgetUsd: 1, overBudget: 'stop' });
    await h.deps.tenants.set(finishing, { dailyBudgetUsd: 1, overBudget: 'finish' });
    const agent = h.agent('demo');
    const stopped = await h.client.startExecution({ agent, tenant: stopping, prompt: 'spend 2' });
    const finished = await h.client.startExecution({ agent, tenant: finishing, prompt: 'spend 2' });
    const row = await h.client.waitForExecution(stopped.executionId, 60_000);
    expect(row).toMatchObject({ status: 'failed', errorKind: 'tenant_over_budget' });
    expect(row.error).toMatch(/stopped in flight \(over-budget policy: stop\)/);
    // By now the other tenant's run has spent as much, as long: it goes on.
    await waitUntil(async () => ((await h.executions.get(finished.executionId))?.usage?.cost?.amount ?? 0) >= 2, {
      what: "the finishing tenant's spend to show in its row",
      timeoutMs: 30_000,
    });
    expect((await h.executions.get(finished.executionId))?.status).toBe('running');
    await h.client.stopExecution(finished.executionId, 'test done');
    await waitForRowStatus(h.executions, finished.executionId, 'cancelled');
  });

  it('carries the tenant in the row, the search attributes and the CLI filters', async () => {
    const team = tenant('seen');
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), tenant: team, prompt: 'succeed 0 seen' });
    await h.client.waitForExecution(executionId, 30_000);
    const described = await h.temporal.workflow.getHandle(executionId).describe();
    expect(described.typedSearchAttributes.get(searchAttributes.tenant)).toBe(team);
    const env = cliEnvironment(h);
    const listed = await runCli(['executions', 'list', '--tenant', team], env);
    expect(listed.stdout.split('\n').filter((line) => line.includes(executionId))).toHaveLength(1);
    expect(listed.stdout).toMatch(new RegExp(`${executionId} +\\S+ +${team} +succeeded`));
    expect((await runCli(['executions', 'list', '--tenant', tenant('nobody')], env)).stdout).not.toContain(executionId);
    expect((await runCli(['executions', 'show', executionId], env)).stdout).toMatch(new RegExp(`tenant +${team}\n`));

    const shown = await runCli(['tenants', 'show', team], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/weight +1\n/);
    expect(shown.stdout).toMatch(/spent today +0\.00 USD \(no budget\)/);
  });

  it('names each bad tenant setting and its bounds, and saves nothing', async () => {
    const team = tenant('bad');
    const env = cliEnvironment(h);
    const bad = await runCli(['tenants', 'set', team, '--weight', '0', '--priority', '9', '--max-running', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--weight: must be at least 0\.01/);
    expect(bad.stderr).toMatch(/priority: must be from 1 \(first\) to 5/);
    expect(bad.stderr).toMatch(/--max-running: must be at least 1/);
    const badName = await runCli(['tenants', 'set', 'Not A Name', '--weight', '2'], env);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/tenant: must be a lowercase tenant name/);
    expect((await h.deps.tenants.list()).map((t) => t.name)).not.toContain(team);

    const start = await h.client.startExecution({ agent: h.agent('demo'), tenant: 'Bad Tenant', prompt: 'x' }).catch((e: Error) => e);
    expect(String(start)).toMatch(/tenant: must be a lowercase tenant name/);

    expect((await runCli(['tenants', 'set', team, '--weight', '2', '--daily-budget-usd', '5'], env)).code).toBe(0);
    const listed = await runCli(['tenants', 'list'], env);
    expect(listed.stdout).toMatch(new RegExp(`${team} +2 +3 +0 +none +none +0\\.00 of 5 USD \\(0 %\\)`));
    expect((await runCli(['tenants', 'set', team, '--daily-budget-usd', 'none'], env)).code).toBe(0);
    expect((await h.deps.tenants.get(team)).dailyBudgetUsd).toBeNull();
  });
});
