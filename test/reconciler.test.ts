import getPort from 'get-port';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { literalToken } from '../src/domain/token-reference.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createPool } from '../src/db/pool.js';
import type { LifelineDeps } from '../src/deps/lifeline-deps.js';
import type { ReconcileReport, Sweep } from '../src/contract/reconcile-report.js';
import { createFullSweepTurns } from '../src/reconciler/full-sweep-turns.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { reconcileScheduled } from '../src/reconciler/scheduled-cycle.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';
import { leaseHolders, probePid, startOnAgent, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { reconcileWorkflow } from '../src/workflows/reconcile.js';

describe('the reconciler', () => {
  let h: Harness;
  let db: PrivateDatabase;
  let deps: LifelineDeps;
  beforeAll(async () => {
    // Cycles here act on every live row: a database of its own keeps other test files' rows out.
    db = await createPrivateDatabase('reconciler');
    // A lease of 1 ms is expired whenever anyone looks: the reconciler must still leave it alone.
    h = await startHarness({ agents: { demo: { capacity: 50 } }, deps: { leaseMs: 1 }, databaseUrl: db.url });
    deps = h.deps;
  });
  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  const reconcile = (sweep: Sweep, dryRun = false): Promise<ReconcileReport> => reconcileOnce(deps, { sweep, dryRun });

  /** Regular cycles until one recovers the execution: visibility lists a closed workflow a moment after it closes. */
  const regularCycleRecovering = (executionId: string, dryRun = false): Promise<ReconcileReport> =>
    waitUntil(
      async () => {
        const report = await reconcile('anomalies', dryRun);
        return report.recoveries.some((r) => r.executionId === executionId) ? report : undefined;
      },
      { what: `a regular reconcile cycle to recover ${executionId}`, timeoutMs: 15_000, intervalMs: 200 },
    );

  const stopAndSettle = async (executionId: string) => {
    await h.client.stopExecution(executionId, 'test done');
    await waitForRowStatus(h.executions, executionId, 'cancelled');
    await waitForSlotReleased(h, 'demo', executionId);
  };

  it('leaves running executions alone, even with expired leases; a regular cycle does not even describe them', async () => {
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' })).executionId),
    );
    const pids = await Promise.all(ids.map((id) => waitForAgentProcess(h, 'demo', id)));
    const lease = (await h.slots.leases(h.agent('demo'))).find((l) => l.executionId === ids[0]);
    expect(lease!.expiresAt).toBeLessThan(Date.now() + 5);

    const regular = await reconcile('anomalies');
    expect(regular).toMatchObject({ sweep: 'anomalies', liveRowsChecked: 3, leasesChecked: 3, workflowsDescribed: 0, recoveries: [] });
    const full = await reconcile('full');
    expect(full).toMatchObject({ sweep: 'full', liveRowsChecked: 3, workflowsDescribed: 3, recoveries: [] });
    for (const [i, id] of ids.entries()) {
      expect((await h.executions.get(id))?.status).toBe('running');
      expect(await leaseHolders(h, 'demo')).toContain(id);
      expect(probePid(pids[i]!)).toBe('alive');
    }
    await Promise.all(ids.map(stopAndSettle));
  });

  it('finalizes an execution whose workflow was terminated, stops its process and releases its slot', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('operator pressed Terminate');

    const report = await h.temporal.workflow.execute(reconcileWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: `reconcile-${executionId}`,
      args: [{ graceSeconds: 0, sweep: 'full' }],
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

  it('a regular cycle finalizes a terminated execution it learns of from visibility, describing only that one', async () => {
    const { executionId: bystander } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', bystander);
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('operator pressed Terminate');

    const report = await regularCycleRecovering(executionId);
    expect(report).toMatchObject({ sweep: 'anomalies', liveRowsChecked: 2, workflowsDescribed: 1 });
    expect(report.recoveries).toEqual([
      expect.objectContaining({ executionId, workflow: 'TERMINATED', action: 'finalized', status: 'cancelled' }),
    ]);
    expect(await h.executions.get(executionId)).toMatchObject({ status: 'cancelled', errorKind: 'closed_outside_workflow' });
    expect(await leaseHolders(h, 'demo')).not.toContain(executionId);
    await waitUntil(async () => probePid(pid) === 'ESRCH', { what: `pid ${pid} to be gone`, timeoutMs: 10_000 });
    await stopAndSettle(bystander);
  });

  it('a regular cycle restores the lease of a running execution that Redis lost', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    await h.slots.release(h.agent('demo'), executionId);
    expect(await leaseHolders(h, 'demo')).not.toContain(executionId);

    const report = await reconcile('anomalies');
    expect(report).toMatchObject({ sweep: 'anomalies', workflowsDescribed: 1 });
    expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId, workflow: 'RUNNING', action: 'lease_restored' }));
    expect(await leaseHolders(h, 'demo')).toContain(executionId);
    await stopAndSettle(executionId);
  });

  it('a regular cycle releases leases whose workflow is closed or gone, and only those', async () => {
    const { executionId: finished } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'succeed 0' });
    await h.temporal.workflow.getHandle(finished).result();
    // Leases that outlived their execution (a Redis restored from an old snapshot, a bug): written
    // straight into Redis, as no acquire grants one to an execution that has concluded.
    const leaseKey = `lifeline:slots:{${h.agent('demo')}}:leases`;
    await h.redis.zadd(leaseKey, Date.now() + 60_000, finished);
    const orphan = `orphan-${Date.now()}`;
    await h.slots.tryAcquire(h.agent('demo'), orphan, 50, 'skip');
    const { executionId: running } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', running);

    const report = await reconcile('anomalies');
    expect(report.recoveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ executionId: finished, workflow: 'COMPLETED', action: 'lease_released' }),
        expect.objectContaining({ executionId: orphan, workflow: 'NOT_FOUND', action: 'lease_released' }),
      ]),
    );
    expect(report.recoveries).toHaveLength(2);
    expect(await leaseHolders(h, 'demo')).toEqual([running]);
    await stopAndSettle(running);
  });

  it('stops agent processes whose execution has ended, or that no execution knows, and leaves live ones alone', async () => {
    // A run that ended while its agent was away: the row is final, the process runs on.
    const ended = `ended-${uniqueSuffix()}`;
    await h.executions.create({
      id: ended,
      agent: h.agent('demo'),
      prompt: 'hang',
      trigger: 'api',
      busyPolicy: 'queue',
      timeoutSeconds: 60,
    });
    await h.executions.transition(ended, 'failed', { actor: 'workflow', outcome: { errorKind: 'agent_unreachable', error: 'agent away' } });
    const endedPid = (await startOnAgent(h, 'demo', ended, 'hang')).pid!;
    // A run with neither a row nor a workflow.
    const stray = `stray-${uniqueSuffix()}`;
    const strayPid = (await startOnAgent(h, 'demo', stray, 'hang')).pid!;
    const { executionId: live } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const livePid = await waitForAgentProcess(h, 'demo', live);

    const report = await reconcile('anomalies');
    expect(report.recoveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ executionId: ended, action: 'process_stopped', status: 'failed' }),
        expect.objectContaining({ executionId: stray, action: 'process_stopped', workflow: 'NOT_FOUND' }),
      ]),
    );
    expect(report.recoveries.map((r) => r.executionId)).not.toContain(live);
    await waitUntil(async () => probePid(endedPid) === 'ESRCH' && probePid(strayPid) === 'ESRCH', {
      what: 'the orphan processes to end',
      timeoutMs: 15_000,
    });
    expect(probePid(livePid)).toBe('alive');
    await stopAndSettle(live);
  });

  it('a full sweep finalizes a live row whose workflow does not exist, which a regular cycle cannot see', async () => {
    // Such a row outlives its workflow's history (namespace retention) or was never started in this namespace.
    const executionId = `no-workflow-${uniqueSuffix()}`;
    await h.executions.create({
      id: executionId,
      agent: h.agent('demo'),
      prompt: 'never started',
      trigger: 'api',
      busyPolicy: 'queue',
      timeoutSeconds: 60,
    });

    const regular = await reconcile('anomalies');
    expect(regular.recoveries.map((r) => r.executionId)).not.toContain(executionId);
    expect((await h.executions.get(executionId))?.status).toBe('queued');

    const full = await reconcile('full');
    expect(full.recoveries).toContainEqual(
      expect.objectContaining({ executionId, workflow: 'NOT_FOUND', action: 'finalized', status: 'failed' }),
    );
    expect(await h.executions.get(executionId)).toMatchObject({ status: 'failed', errorKind: 'closed_outside_workflow' });
  });

  it('the scheduled cycle sweeps in full once per interval, and whenever it cannot tell whose turn it is', async () => {
    const turns = createFullSweepTurns(h.redis, { intervalSeconds: 600, key: `test:full-sweep:${uniqueSuffix()}` });
    const scheduled = (dryRun = false) => reconcileScheduled({ ...deps, fullSweeps: turns }, { dryRun });
    expect((await scheduled(true)).sweep).toBe('full');
    // A dry run only looked: the turn is still open.
    expect((await scheduled()).sweep).toBe('full');
    expect((await scheduled()).sweep).toBe('anomalies');

    const unreachable = new Redis(await getPort(), { maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    try {
      expect(await createFullSweepTurns(unreachable, { intervalSeconds: 600 }).claim()).toBe(true);
    } finally {
      unreachable.disconnect();
    }
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('dry run check');
    for (const report of [await regularCycleRecovering(executionId, true), await reconcile('full', true)]) {
      expect(report.dryRun).toBe(true);
      expect(report.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'finalized' }));
    }
    expect((await h.executions.get(executionId))?.status).toBe('running');
    expect(await leaseHolders(h, 'demo')).toContain(executionId);
    expect(probePid(pid)).toBe('alive');
    await reconcile('anomalies');
    expect((await h.executions.get(executionId))?.status).toBe('cancelled');
  });

  it('never records a false failure: executions finishing while leases are expired and the reconciler runs end succeeded, once', async () => {
    // Twelve at once: each starts a Node process, and thirty starting together on 2 busy cores kept
    // the in-process agent server from answering for 20 s.
    const rounds = 12;
    const started = await Promise.all(
      Array.from({ length: rounds }, (_, i) =>
        h.client.startExecution({ agent: h.agent('demo'), prompt: `succeed ${(i % 3) * 0.5} race ${i}` }),
      ),
    );
    const ids = started.map((s) => s.executionId);
    let sawLiveRows = 0;
    /** When each cycle that found live rows ran: what the terminal writes are matched against. */
    const cyclesWithLiveRows: { from: number; to: number }[] = [];
    let cycles = 0;
    const allDone = async () => {
      const rows = await Promise.all(ids.map((id) => h.executions.get(id)));
      return rows.every((r) => r && !['queued', 'running'].includes(r.status));
    };
    // The reconciler runs back to back, both kinds of cycle in turn, for as long as the executions are finishing.
    while (!(await allDone())) {
      const from = Date.now();
      const report = await reconcile(cycles % 2 === 0 ? 'full' : 'anomalies');
      cycles += 1;
      sawLiveRows += report.liveRowsChecked;
      if (report.liveRowsChecked > 0) cyclesWithLiveRows.push({ from, to: Date.now() });
      expect(report.recoveries.filter((r) => ids.includes(r.executionId))).toEqual([]);
    }
    // Both kinds of cycle ran (they take turns); how many fit depends on the machine's load.
    expect(cycles).toBeGreaterThanOrEqual(2);
    expect(sawLiveRows).toBeGreaterThan(0);
    let writtenDuringACycle = 0;
    for (const id of ids) {
      const row = await h.executions.get(id);
      expect({ status: row?.status, error: row?.error }).toEqual({ status: 'succeeded', error: null });
      // The audit log is the whole history: no reconciler ending was written and then superseded.
      const audit = await h.executions.transitions(id);
      expect(audit.map((t) => `${t.fromStatus ?? '-'}>${t.toStatus}:${t.actor}`)).toEqual([
        expect.stringMatching(/^->queued:/),
        'queued>running:workflow',
        'running>succeeded:workflow',
      ]);
      const endedAt = audit.at(-1)!.at.getTime();
      if (cyclesWithLiveRows.some((c) => c.from <= endedAt && endedAt <= c.to)) writtenDuringACycle += 1;
    }
    // A real race, not cycles that happened to fall between the endings: some terminal writes
    // landed while a cycle that had read live rows was still deciding about them.
    expect(writtenDuringACycle).toBeGreaterThan(0);
    console.log(
      `false-failure race: ${rounds} executions, ${cycles} reconcile cycles, ${sawLiveRows} live-row checks, ` +
        `${writtenDuringACycle} endings written during a cycle, 0 recoveries`,
    );
  });

  it('sees every live row, however many older ones come first', async () => {
    const filler = `filler-${uniqueSuffix()}`;
    await h.deps.agents.upsert({
      name: filler,
      baseUrl: 'http://127.0.0.1:9',
      token: literalToken('unused'),
      capacity: 1,
      defaultTimeoutSeconds: null,
    });
    const pool = createPool(db.url, silentLogger());
    try {
      // A thousand older live rows (queued an hour ago, no workflow) ahead of the one to recover.
      await pool.query(
        `INSERT INTO executions (id, agent, status, prompt, trigger, busy_policy, timeout_seconds, created_at)
         SELECT $1 || '-' || g, $1, 'queued', 'filler', 'test', 'queue', 60, now() - interval '1 hour'
         FROM generate_series(1, 1000) AS g`,
        [filler],
      );
    } finally {
      await pool.end();
    }
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'demo', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('operator pressed Terminate');

    const report = await regularCycleRecovering(executionId);
    // Other files' executions may be live in the same database at this moment: at least these.
    expect(report.liveRowsChecked).toBeGreaterThanOrEqual(1001);
    // The fillers have no workflow: a full sweep finalizes every one of them.
    const sweep = await reconcile('full');
    expect(sweep.recoveries.filter((r) => r.agent === filler && r.workflow === 'NOT_FOUND')).toHaveLength(1000);
  });
});

describe('the full-sweep interval setting', () => {
  it('defaults to 10 minutes and rejects values out of range, naming the variable and the limit', () => {
    expect(loadConfig({}).reconciler.fullSweepSeconds).toBe(600);
    expect(loadConfig({ LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: '3600' }).reconciler.fullSweepSeconds).toBe(3600);
    const load = (value: string) => () => loadConfig({ LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: value });
    expect(load('30')).toThrow(ConfigError);
    expect(load('30')).toThrow('LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: must be at least 60');
    expect(load('90000')).toThrow('LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: must be at most 86400');
    expect(load('ten')).toThrow('LIFELINE_RECONCILE_FULL_SWEEP_SECONDS: must be a number of seconds');
  });
});
