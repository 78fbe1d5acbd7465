import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { RedisServer } from '../src/stack/redis-server.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { agentRun, leaseHolders, probePid, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { alertingDeps } from './support/alerting-deps.js';
import { cliEnvironment, runCli } from './support/cli-process.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';

/** Far longer than the test: the agent never kills these processes itself. */
const stopGraceMs = 600_000;

/**
 * Capacity that survives Redis forgetting (issue 21): ended executions whose processes are not
 * confirmed stopped keep their slots through a FLUSHALL, because the leases are rebuilt from
 * Postgres before anyone is admitted. A Redis of the test's own, so the flush touches no other file.
 */
describe('slots held by ended executions through a Redis that lost its data', () => {
  const log = silentLogger();
  let dir: string;
  let redisServer: RedisServer;
  let redis: Redis;
  let h: Harness;
  let db: PrivateDatabase;
  const pids: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-slot-holds-'));
    redisServer = await RedisServer.create({ dir: join(dir, 'redis'), log });
    await redisServer.start();
    redis = new Redis(redisServer.url);
    redis.on('error', () => undefined); // down on purpose in the second test
    // Reconcile cycles act on every row of their database: this file's rows live apart from other files'.
    db = await createPrivateDatabase('slot_holds');
    h = await startHarness({
      databaseUrl: db.url,
      agents: { pair: { capacity: 2, config: { stopGraceMs } } },
      settings: { stopWaitSeconds: 1 },
      redisUrl: redisServer.url,
    });
  });
  afterAll(async () => {
    for (const pid of pids) if (probePid(pid) === 'alive') process.kill(pid, 'SIGKILL');
    await h?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An execution that ends (as `ends`) while its process ignores the stop and runs on. */
  async function endedButRunning(ends: 'timeout' | 'operator stop'): Promise<{ executionId: string; pid: number }> {
    const { executionId } = await h.client.startExecution({
      agent: h.agent('pair'),
      prompt: 'ignore-term',
      // Long enough for the process to start and ignore SIGTERM on a loaded machine before the deadline stops it.
      ...(ends === 'timeout' ? { timeoutSeconds: 15 } : {}),
    });
    const pid = await waitForAgentProcess(h, 'pair', executionId);
    pids.push(pid);
    await waitUntil(async () => ((await agentRun(h, 'pair', executionId))?.outputBytes ?? 0) > 0, {
      what: `execution ${executionId} to print on the agent (it ignores SIGTERM from then on)`,
      timeoutMs: 30_000,
    });
    if (ends === 'operator stop') await h.client.stopExecution(executionId, 'operator stop in the test');
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe(ends === 'timeout' ? 'timed_out' : 'cancelled');
    expect(row.error).toMatch(/could not be confirmed stopped/);
    expect(probePid(pid)).toBe('alive');
    return { executionId, pid };
  }

  it('a third start on a capacity-2 agent is refused after FLUSHALL until one stuck process is gone', async () => {
    const first = await endedButRunning('timeout');
    const second = await endedButRunning('operator stop');
    expect((await leaseHolders(h, 'pair')).sort()).toEqual([first.executionId, second.executionId].sort());
    expect((await h.executions.slotHolds(h.agent('pair'))).map((hold) => hold.executionId).sort()).toEqual(
      [first.executionId, second.executionId].sort(),
    );

    // Redis forgets everything (a restart without persistence, a failover to an empty replica).
    await redis.flushall();
    expect(await leaseHolders(h, 'pair')).toEqual([]);

    const third = await h.client.startExecution({ agent: h.agent('pair'), prompt: 'succeed 0', busyPolicy: 'skip' });
    expect(await h.client.waitForExecution(third.executionId, 30_000)).toMatchObject({ status: 'skipped', errorKind: 'agent_busy' });
    // The admission rebuilt the leases from Postgres before it counted.
    expect((await leaseHolders(h, 'pair')).sort()).toEqual([first.executionId, second.executionId].sort());
    expect(probePid(first.pid)).toBe('alive');
    expect(probePid(second.pid)).toBe('alive');
    // Under `queue` a start waits instead, holding no slot, until a stuck process is gone.
    const queued = await h.client.startExecution({ agent: h.agent('pair'), prompt: 'succeed 0 queued', busyPolicy: 'queue' });
    await waitUntil(async () => (await h.slots.waiting(h.agent('pair'))).includes(queued.executionId), {
      what: 'the queued start to wait for a slot',
      timeoutMs: 30_000,
    });
    expect(await h.executions.get(queued.executionId)).toMatchObject({ status: 'queued', slotAcquiredAt: null });

    // The holders are visible: show, agents list, problems, and the reconciler's standing alert.
    const env = cliEnvironment(h, { LIFELINE_STOP_ALERT_SECONDS: '1' });
    const shown = await runCli(['executions', 'show', first.executionId], env);
    expect(shown.stdout).toMatch(/holding a capacity slot while stopping its process \(attempt \d+, since /);
    const agents = await runCli(['agents', 'list'], env);
    expect(agents.stdout.split('\n').find((line) => line.startsWith(`${h.agent('pair')} `))).toMatch(
      /\b2 \(2 held by ended executions still stopping\)/,
    );
    const problems = await runCli(['executions', 'problems'], env);
    expect(problems.stdout).toContain('stops failing for 1 s or more');
    expect(problems.stdout).toContain(first.executionId);
    const problemsJson = await runCli(['executions', 'problems', '--json'], env);
    const { stopsFailing } = JSON.parse(problemsJson.stdout) as { stopsFailing: { executionId: string; attempt?: number }[] };
    expect(stopsFailing.map((s) => s.executionId).sort()).toEqual([first.executionId, second.executionId].sort());
    const { deps, alerts } = alertingDeps(h, { ...h.depsConfig, reconciler: { ...h.depsConfig.reconciler, stopAlertSeconds: 1 } });
    await reconcileOnce(deps, { sweep: 'full' });
    expect(
      alerts
        .filter((a) => a.kind === 'stop_keeps_failing')
        .map((a) => a.executionId)
        .sort(),
    ).toEqual([first.executionId, second.executionId].sort());

    // One stuck process goes: the workflow's next stop confirms it and gives its slot back.
    process.kill(first.pid, 'SIGKILL');
    await waitForSlotReleased(h, 'pair', first.executionId, 120_000);
    await waitUntil(async () => (await h.executions.slotHold(first.executionId)) === undefined, {
      what: 'the hold of the first execution to go',
      timeoutMs: 10_000,
    });
    expect(await h.client.waitForExecution(queued.executionId, 60_000)).toMatchObject({ status: 'succeeded' });
    // Never more live processes than the capacity: the second still holds its slot.
    await waitForSlotReleased(h, 'pair', queued.executionId);
    expect(await leaseHolders(h, 'pair')).toEqual([second.executionId]);
    process.kill(second.pid, 'SIGKILL');
    await waitForSlotReleased(h, 'pair', second.executionId, 120_000);
  });

  it('reconciler_degraded goes out within two cycles while Redis is down, de-duplicated without Redis, and the cycle leaves slots for Redis to come back', async () => {
    // Something for the cycles to recover: a run whose workflow was terminated (Redis is needed to release its slot).
    const { executionId } = await h.client.startExecution({ agent: h.agent('pair'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'pair', executionId);
    pids.push(pid);
    await h.temporal.workflow.getHandle(executionId).terminate('the reconciler recovers it');
    const { deps, alerts } = alertingDeps(h);
    const redisAlerts = () => alerts.filter((a) => a.kind === 'reconciler_degraded' && /Redis cannot be reached/.test(a.summary));
    await redisServer.stop();
    try {
      const first = await reconcileOnce(deps, { sweep: 'full', graceSeconds: 0 });
      // One failure says it all: no slot pass runs, so none spends its seconds failing on each agent.
      expect(first.failures.map((f) => f.executionId)).toEqual(['(redis)']);
      expect(first.liveRowsChecked).toBe(0);
      expect(redisAlerts()).toHaveLength(1);
      // The next cycle still fails, and says it no second time: this process remembers, not Redis.
      await reconcileOnce(deps, { sweep: 'full', graceSeconds: 0 });
      expect(redisAlerts()).toHaveLength(1);
      expect((await h.executions.get(executionId))?.status).toBe('running');
    } finally {
      await redisServer.start();
    }
    const recovered = await reconcileOnce(deps, { sweep: 'full', graceSeconds: 0 });
    expect(recovered.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'finalized' }));
    expect((await h.executions.get(executionId))?.status).toBe('cancelled');
    expect(probePid(pid)).not.toBe('alive');
  });

  it('a run terminated in Temporal whose process ignores the stop keeps its slot until the agent no longer runs it', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('pair'), prompt: 'ignore-term' });
    const pid = await waitForAgentProcess(h, 'pair', executionId);
    pids.push(pid);
    await waitUntil(async () => ((await agentRun(h, 'pair', executionId))?.outputBytes ?? 0) > 0, {
      what: `execution ${executionId} to print on the agent`,
      timeoutMs: 30_000,
    });
    await h.temporal.workflow.getHandle(executionId).terminate('no workflow code runs');
    const finalized = await reconcileOnce(h.deps, { sweep: 'full', graceSeconds: 0 });
    expect(finalized.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'finalized' }));
    expect((await h.executions.get(executionId))?.status).toBe('cancelled');
    // Still running on the agent: the slot stays, as a hold the next cycles judge with the agent.
    expect(probePid(pid)).toBe('alive');
    expect(await h.executions.slotHold(executionId)).toBeDefined();
    expect(await leaseHolders(h, 'pair')).toContain(executionId);
    await reconcileOnce(h.deps, { sweep: 'full', graceSeconds: 0 });
    expect(await leaseHolders(h, 'pair')).toContain(executionId);

    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => (await agentRun(h, 'pair', executionId))?.status !== 'running', {
      what: 'the agent to see the process gone',
      timeoutMs: 30_000,
    });
    const released = await reconcileOnce(h.deps, { sweep: 'full', graceSeconds: 0 });
    expect(released.recoveries).toContainEqual(expect.objectContaining({ executionId, action: 'lease_released' }));
    expect(await leaseHolders(h, 'pair')).not.toContain(executionId);
    expect(await h.executions.slotHold(executionId)).toBeUndefined();
  });
});
