import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { waitUntil } from '../src/util/wait-until.js';
import {
  agentRun,
  auditSteps,
  leaseHolders,
  probePid,
  waitForAgentOutput,
  waitForAgentProcess,
  waitForSlotReleased,
} from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { startMisbehavingAgent, type MisbehavingAgent } from './support/misbehaving-agent.js';

const stopGraceMs = 2000;

describe('cancelling and stopping agent executions', () => {
  let h: Harness;
  const agents: MisbehavingAgent[] = [];
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5, config: { stopGraceMs } } } });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await h?.close();
  });

  it('a cancel through Temporal stops the process, records cancelled_by_operator and releases the slot', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    expect(await leaseHolders(h, 'demo')).toContain(executionId);

    const handle = h.temporal.workflow.getHandle(executionId);
    await handle.cancel();
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('cancelled');
    expect(row.errorKind).toBe('cancelled_by_operator');
    expect(probePid(pid)).toBe('ESRCH');
    expect((await agentRun(h, 'demo', executionId))?.status).toBe('cancelled');
    await waitForSlotReleased(h, 'demo', executionId);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>running', 'running>cancelled']);

    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });

  it('kills a process that ignores the graceful signal once the grace period is over', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'ignore-term' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    // The stop reaches the process at once: only once it says it ignores SIGTERM is there something to kill.
    await waitForAgentOutput(h, 'demo', executionId);

    const stopAt = Date.now();
    await h.client.stopExecution(executionId, 'stop the stubborn one');
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('cancelled');
    expect(row.errorKind).toBe('cancelled_by_operator');
    expect(row.finishedAt!.getTime() - stopAt).toBeGreaterThanOrEqual(stopGraceMs - 200);
    expect(probePid(pid)).toBe('ESRCH');
    const onAgent = await agentRun(h, 'demo', executionId);
    expect(onAgent?.status).toBe('cancelled');
    expect(onAgent?.error).toMatch(/SIGKILL/);
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it('an operator stop records the operator and the reason in the row and the audit log', async () => {
    const reason = 'operator reason text';
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await waitForAgentOutput(h, 'demo', executionId);

    await h.client.stopExecution(executionId, reason);
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('cancelled');
    expect(row.errorKind).toBe('cancelled_by_operator');
    expect(row.error).toContain(reason);
    expect(row.output).toContain(`execution ${executionId} hanging until signalled`);
    expect(probePid(pid)).toBe('ESRCH');

    const audit = await h.executions.transitions(executionId);
    const terminal = audit.filter((t) => t.toStatus === 'cancelled');
    expect(terminal).toHaveLength(1);
    expect(audit.at(-1)).toMatchObject({ fromStatus: 'running', toStatus: 'cancelled', actor: 'operator', reason });
    expect(audit.slice(0, -1).every((t) => t.actor === 'workflow')).toBe(true);
    await waitForSlotReleased(h, 'demo', executionId);

    // A stop with a reason completes the workflow with the cancelled outcome instead of failing it.
    const handle = h.temporal.workflow.getHandle(executionId);
    expect(await handle.result()).toMatchObject({ executionId, status: 'cancelled', errorKind: 'cancelled_by_operator' });
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  for (const how of ['stop', 'cancel'] as const) {
    it(`a success the agent reports as finished after the ${how} does not override it: cancelled, with its output`, async () => {
      // An agent whose process exits 0 on SIGTERM, and says the run succeeded, finished when the stop came.
      const startedAt = new Date().toISOString();
      let stoppedAt: string | undefined;
      const running = (id: string) => JSON.stringify({ id, status: 'running', startedAt, outputBytes: 0 });
      const finished = (id: string) =>
        JSON.stringify({
          id,
          status: 'succeeded',
          exitCode: 0,
          startedAt,
          finishedAt: stoppedAt,
          output: 'half the work',
          outputBytes: 13,
        });
      const agent = await startMisbehavingAgent({
        start: (id) => ({ status: 201, body: running(id) }),
        get: (id) => ({ status: 200, body: stoppedAt === undefined ? running(id) : finished(id) }),
        stop: (id) => {
          stoppedAt ??= new Date().toISOString();
          return { status: 200, body: finished(id) };
        },
      });
      agents.push(agent);
      const name = `exits-0-on-stop-${uniqueSuffix()}`;
      await h.deps.agents.upsert({ name, baseUrl: agent.url, token: literalToken('token'), capacity: 1, defaultTimeoutSeconds: null });
      const { executionId } = await h.client.startExecution({ agent: name, prompt: 'anything' });
      await waitUntil(async () => (await h.client.getExecution(executionId))?.status === 'running', {
        what: `execution ${executionId} to run`,
        timeoutMs: 30_000,
        intervalMs: 50,
      });

      if (how === 'stop') await h.client.stopExecution(executionId, 'wrong prompt');
      else await h.temporal.workflow.getHandle(executionId).cancel();
      const row = await h.client.waitForExecution(executionId, 60_000);
      const requested = how === 'stop' ? 'the stop was requested' : 'the cancel was requested';
      const note = new RegExp(`\\(the agent reported succeeded at ${stoppedAt}, after ${requested} at \\S+\\)$`);
      expect(row).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator', exitCode: 0, output: 'half the work' });
      expect(row.error).toMatch(note);
      const audit = await h.executions.transitions(executionId);
      expect(audit.at(-1)).toMatchObject({ fromStatus: 'running', toStatus: 'cancelled', actor: 'operator' });
      expect(audit.at(-1)?.reason).toMatch(note);
      await waitForSlotReleased(h, name, executionId);
    });
  }
});
