import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentRun,
  auditSteps,
  leaseHolders,
  probePid,
  waitForAgentOutput,
  waitForAgentProcess,
  waitForSlotReleased,
} from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const stopGraceMs = 2000;

describe('cancelling and stopping agent executions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5, config: { stopGraceMs } } } });
  });
  afterAll(async () => h?.close());

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
});
