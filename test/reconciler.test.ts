import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileOnce, type ReconcileReport } from '../src/reconciler/reconcile.js';
import { waitUntil } from '../src/util/wait-until.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';
import { auditSteps, leaseHolders, probePid, waitForAgentProcess, waitForSlotReleased, waitForStatus } from './support/execution-probes.js';

describe('the reconciler', () => {
  let h: Harness;
  let db: PrivateDatabase;
  beforeAll(async () => {
    // Cycles here act on every live row: a database of its own keeps other test files' rows out.
    db = await createPrivateDatabase('reconciler');
    // A lease of 1 ms is expired whenever anyone looks: the reconciler must still leave it alone.
    h = await startHarness({ agents: { demo: { capacity: 50 } }, deps: { leaseMs: 1 }, databaseUrl: db.url });
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  const reconcile = (): Promise<ReconcileReport> =>
    reconcileOnce({ ...h.deps, graceSeconds: 0, stopWaitSeconds: h.settings.stopWaitSeconds });

  it('finalizes an execution whose workflow was terminated, stops its process and releases its slot', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('operator pressed Terminate');

    const report = await h.temporal.workflow.execute('reconcileWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `reconcile-${executionId}`,
      args: [{ graceSeconds: 0 }],
    });
    expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId, workflow: 'TERMINATED', action: 'finalized' }));
    const row = await h.executions.get(executionId);
    expect(row?.status).toBe('cancelled');
    expect(row?.errorKind).toBe('closed_outside_workflow');
    const audit = await h.executions.transitions(executionId);
    expect(audit.at(-1)).toMatchObject({ fromStatus: 'running', toStatus: 'cancelled', actor: 'reconciler' });
    expect(await leaseHolders(h, 'demo')).not.toContain(executionId);
    await waitUntil(async () => probePid(pid) === 'ESRCH', { what: `pid ${pid} to be gone`, timeoutMs: 10_000 });
  });

  it('leaves a running execution alone while its workflow runs, even with an expired lease', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    const lease = (await h.slots.leases(h.agent('demo'))).find((l) => l.executionId === executionId);
    expect(lease!.expiresAt).toBeLessThan(Date.now() + 5);

    const report = await reconcile();
    expect(report.recoveries.map((r) => r.executionId)).not.toContain(executionId);
    expect((await h.executions.get(executionId))?.status).toBe('running');
    expect(await leaseHolders(h, 'demo')).toContain(executionId);
    expect(probePid(pid)).toBe('alive');

    await h.client.stopExecution(executionId, 'test done');
    await waitForStatus(h, executionId, 'cancelled');
  });

  it('restores the lease of a running execution that Redis lost', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    await h.slots.release(h.agent('demo'), executionId);
    expect(await leaseHolders(h, 'demo')).not.toContain(executionId);

    const report = await reconcile();
    expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'lease_restored' }));
    expect(await leaseHolders(h, 'demo')).toContain(executionId);
    await h.client.stopExecution(executionId, 'test done');
    await waitForStatus(h, executionId, 'cancelled');
    await waitForSlotReleased(h, 'demo', executionId);
  });

  it('releases a lease whose workflow is gone, and only that one', async () => {
    const orphan = `orphan-${Date.now()}`;
    await h.slots.tryAcquire(h.agent('demo'), orphan, 50, 'skip');
    const report = await reconcile();
    expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId: orphan, workflow: 'NOT_FOUND', action: 'lease_released' }));
    expect(await leaseHolders(h, 'demo')).not.toContain(orphan);
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('dry run check');
    const report = await reconcileOnce({ ...h.deps, graceSeconds: 0, stopWaitSeconds: 5 }, { dryRun: true });
    expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'finalized' }));
    expect((await h.executions.get(executionId))?.status).toBe('running');
    await reconcile();
    expect((await h.executions.get(executionId))?.status).toBe('cancelled');
  });

  it('never records a false failure: executions finishing while leases are expired and the reconciler runs end succeeded, once', async () => {
    const rounds = 30;
    const started = await Promise.all(
      Array.from({ length: rounds }, (_, i) => h.client.startExecution({ agent: h.agent('demo'), prompt: `succeed ${(i % 3) * 0.5} race ${i}` })),
    );
    const ids = started.map((s) => s.executionId);
    let cycles = 0;
    let sawLiveRows = 0;
    const allDone = async () => {
      const rows = await Promise.all(ids.map((id) => h.executions.get(id)));
      return rows.every((r) => r && !['queued', 'running'].includes(r.status));
    };
    // The reconciler runs back to back for as long as the executions are finishing.
    while (!(await allDone())) {
      const report = await reconcile();
      cycles += 1;
      sawLiveRows += report.liveRowsChecked;
      expect(report.recoveries.filter((r) => ids.includes(r.executionId))).toEqual([]);
    }
    expect(cycles).toBeGreaterThan(3);
    expect(sawLiveRows).toBeGreaterThan(0);
    for (const id of ids) {
      expect((await h.executions.get(id))?.status).toBe('succeeded');
      const steps = await auditSteps(h, id);
      expect(steps).toEqual(['->queued', 'queued>running', 'running>succeeded']);
    }
    console.log(`false-failure race: ${rounds} executions, ${cycles} reconcile cycles, ${sawLiveRows} live-row checks, 0 recoveries`);
  });
});
