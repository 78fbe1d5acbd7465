import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import { InvalidExecutionInputError, ScheduleConflictError, ScheduleNotFoundError } from '../src/client/client-errors.js';
import { limits } from '../src/contract/start-execution-schema.js';
import { LifelineClient } from '../src/client/lifeline-client.js';
import type { CreateScheduleRequest } from '../src/client/schedule-input.js';
import type { AgentScheduleDescription } from '../src/client/schedule-view.js';
import { isTerminal } from '../src/domain/execution-status.js';
import { searchAttributes } from '../src/domain/search-attributes.js';
import type { ExecutionSummary } from '../src/store/execution-reader.js';
import { waitUntil } from '../src/util/wait-until.js';
import { auditSteps, leaseHolders, waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { ensureReconcilerSchedule, reconcilerScheduleId } from '../src/temporal/reconciler-schedule.js';

describe('agent schedules', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 5 }, single: { capacity: 1 }, limited: {} } });
  });
  afterAll(async () => h?.close());

  const scheduleRows = (scheduleId: string): Promise<ExecutionSummary[]> => h.executions.list({ scheduleId, limit: 1000 });

  /**
   * Pause is a signal to Temporal's scheduler, and a fire taken just before it may still be writing
   * its row: settled once describe shows the pause and every fire counted has its finished row.
   */
  async function pauseAndSettle(scheduleId: string, note: string): Promise<AgentScheduleDescription> {
    await h.client.schedules.pause(scheduleId, note);
    let last = '';
    return waitUntil(
      async () => {
        const d = await h.client.schedules.describe(scheduleId);
        const rows = await scheduleRows(scheduleId);
        last = `paused ${d.paused}, ${d.fireCount} fires, ${rows.length} rows`;
        return d.paused && rows.length === d.fireCount && rows.every((r) => isTerminal(r.status)) ? d : undefined;
      },
      {
        what: `schedule ${scheduleId} to settle paused`,
        timeoutMs: 30_000,
        intervalMs: 100,
        hint: () => last,
      },
    );
  }

  /** The workflow ids Temporal's visibility holds for this schedule, once it has caught up with `expected` runs. */
  async function scheduledRuns(scheduleId: string, expected: number): Promise<string[]> {
    return waitUntil(
      async () => {
        const ids: string[] = [];
        for await (const wf of h.temporal.workflow.list({ query: `LifelineSchedule = "${scheduleId}"` })) ids.push(wf.workflowId);
        return ids.length >= expected ? ids.sort() : undefined;
      },
      { what: `visibility to list ${expected} runs of ${scheduleId}`, timeoutMs: 20_000, intervalMs: 250 },
    );
  }

  it('fires every second; its executions complete as schedule executions; pause stops the fires; delete removes it', async () => {
    const agent = h.agent('demo');
    const scheduleId = `tick-${uniqueSuffix()}`;
    await h.client.schedules.create({ scheduleId, agent, prompt: 'succeed 0 tick', intervalSeconds: 1 });

    const succeeded = await waitUntil(
      async () => {
        const done = (await scheduleRows(scheduleId)).filter((r) => r.status === 'succeeded');
        return done.length >= 2 ? done : undefined;
      },
      { what: `two fires of ${scheduleId} to succeed`, timeoutMs: 60_000, intervalMs: 200 },
    );
    for (const row of succeeded) {
      expect(row).toMatchObject({ agent, scheduleId, trigger: 'schedule', errorKind: null });
      // Temporal appends the fire time to `<agent>-<scheduleId>`: one execution per fire.
      expect(row.id).toMatch(new RegExp(`^${agent}-${scheduleId}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
      expect(await auditSteps(h, row.id)).toEqual(['->queued', 'queued>running', 'running>succeeded']);
    }
    const workflow = await h.temporal.workflow.getHandle(succeeded[0]!.id).describe();
    expect(workflow.typedSearchAttributes.get(searchAttributes.schedule)).toBe(scheduleId);
    expect(workflow.typedSearchAttributes.get(searchAttributes.trigger)).toBe('schedule');
    expect(workflow.typedSearchAttributes.get(searchAttributes.agent)).toBe(agent);
    expect(await workflow.staticSummary()).toBe(`${agent}: succeed 0 tick`);

    const paused = await pauseAndSettle(scheduleId, 'quiet please');
    expect(paused.note).toBe('quiet please');
    const fired = paused.fireCount;
    // A real observation window: at one fire a second, a schedule still firing adds rows within it.
    const quietUntil = Date.now() + 3500;
    const observed = await waitUntil(
      async () => {
        const rows = (await scheduleRows(scheduleId)).length;
        if (rows !== fired) return `${rows - fired} fires after the pause`;
        return Date.now() >= quietUntil ? 'quiet' : undefined;
      },
      { what: `paused schedule ${scheduleId} to stay quiet`, timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(observed).toBe('quiet');
    expect(await h.client.schedules.describe(scheduleId)).toMatchObject({ paused: true, fireCount: fired });

    await h.client.schedules.delete(scheduleId);
    await expect(h.client.schedules.describe(scheduleId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await expect(h.client.schedules.pause(scheduleId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('under busy policy skip, each fire while the agent is full is exactly one terminal skipped row', async () => {
    const agent = h.agent('single');
    const { executionId: holder } = await h.client.startExecution({ agent, prompt: 'hang' });
    await waitForAgentProcess(h, 'single', holder);
    const scheduleId = `busy-${uniqueSuffix()}`;
    await h.client.schedules.create({
      scheduleId,
      agent,
      prompt: 'succeed 0 never runs',
      intervalSeconds: 1,
      busyPolicy: 'skip',
    });

    await waitUntil(async () => (await scheduleRows(scheduleId)).length >= 3, {
      what: `three fires of ${scheduleId}`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const { fireCount } = await pauseAndSettle(scheduleId, 'enough fires');
    const rows = await scheduleRows(scheduleId);
    const runs = await scheduledRuns(scheduleId, fireCount);

    expect(runs).toHaveLength(fireCount);
    expect(rows.map((r) => r.id).sort()).toEqual(runs);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 'skipped',
        errorKind: 'agent_busy',
        trigger: 'schedule',
        scheduleId,
      });
      expect(await auditSteps(h, row.id)).toEqual(['->queued', 'queued>skipped']);
    }
    expect(await leaseHolders(h, 'single')).toEqual([holder]);

    await h.client.schedules.delete(scheduleId);
    await h.client.stopExecution(holder, 'test done');
    await waitForRowStatus(h.executions, holder, 'cancelled');
  });

  it('can be created paused with a cron expression, listed, triggered by hand, unpaused, and not created twice', async () => {
    const agent = h.agent('demo');
    const scheduleId = `nightly-${uniqueSuffix()}`;
    const request: CreateScheduleRequest = {
      scheduleId,
      agent,
      prompt: 'succeed 0 by hand',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      timeoutSeconds: 120,
      overlap: 'buffer_one',
      paused: true,
      note: 'waiting for go-live',
    };
    await h.client.schedules.create(request);
    await expect(h.client.schedules.create({ ...request, prompt: 'another' })).rejects.toBeInstanceOf(ScheduleConflictError);

    expect(await h.client.schedules.describe(scheduleId)).toMatchObject({
      scheduleId,
      agent,
      prompt: 'succeed 0 by hand',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      timeoutSeconds: 120,
      busyPolicy: 'queue',
      overlap: 'buffer_one',
      taskQueue: h.taskQueue,
      paused: true,
      note: 'waiting for go-live',
      fireCount: 0,
    });
    const listed = await waitUntil(async () => (await h.client.schedules.list({ agent })).find((s) => s.scheduleId === scheduleId), {
      what: `schedule ${scheduleId} to be listed`,
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(listed).toMatchObject({ agent, cron: '0 3 * * *', timezone: 'Europe/Paris', paused: true });
    expect(await h.client.schedules.list({ agent: h.agent('single') })).not.toContainEqual(expect.objectContaining({ scheduleId }));

    await h.client.schedules.trigger(scheduleId);
    const row = await waitUntil(async () => (await scheduleRows(scheduleId)).find((r) => r.status === 'succeeded'), {
      what: `the triggered fire of ${scheduleId} to succeed`,
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(row).toMatchObject({ agent, trigger: 'schedule', scheduleId });
    expect((await h.executions.get(row.id))?.timeoutSeconds).toBe(120);

    await h.client.schedules.unpause(scheduleId, 'live');
    const active = await waitUntil(
      async () => {
        const d = await h.client.schedules.describe(scheduleId);
        return d.paused ? undefined : d;
      },
      { what: `schedule ${scheduleId} to be unpaused`, timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(active.note).toBe('live');
    // 03:00 in Paris is 01:00 or 02:00 UTC, depending on daylight saving time.
    expect(active.nextFireTimes[0]?.getUTCHours()).toBeOneOf([1, 2]);
    await h.client.schedules.delete(scheduleId);
  });

  it("leaves Lifeline's own reconciler schedule alone: no schedule command acts on it", async () => {
    const reconciler = await ensureReconcilerSchedule(h.temporal, { taskQueue: h.taskQueue, intervalSeconds: 3600 });
    try {
      const id = reconcilerScheduleId(h.taskQueue);
      for (const command of [
        () => h.client.schedules.delete(id),
        () => h.client.schedules.pause(id, 'no'),
        () => h.client.schedules.trigger(id),
        () => h.client.schedules.describe(id),
      ]) {
        await expect(command()).rejects.toThrow(/not an agent schedule of task queue .*Lifeline leaves it alone/);
      }
      const { state } = await reconciler.describe();
      expect(state.paused).toBe(false);
    } finally {
      await reconciler.delete();
    }
  });

  it('refuses a schedule that fires more often than the minimum interval, cron or not, and more schedules per agent than the limit', async () => {
    // As a production client has it (LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS, LIFELINE_SCHEDULES_PER_AGENT).
    const client = new LifelineClient({
      temporal: h.temporal,
      pool: h.pool,
      taskQueue: h.taskQueue,
      schedulePolicy: { minIntervalSeconds: 60, maxPerAgent: 2 },
    });
    const agent = h.agent('limited');
    const refused = (request: Omit<CreateScheduleRequest, 'agent' | 'prompt'>) =>
      client.schedules.create({ agent, prompt: 'succeed 0 x', ...request } as CreateScheduleRequest).then(
        () => undefined,
        (e: unknown) => (e as InvalidExecutionInputError).issues,
      );
    const every30s = `fast-${uniqueSuffix()}`;
    expect(await refused({ scheduleId: every30s, intervalSeconds: 30 })).toEqual([
      { field: 'intervalSeconds', message: 'must fire at most once every 60 s (LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS)' },
    ]);
    // A cron expression with seconds: judged by the fire times Temporal computes, and not left behind.
    const everySecond = `cron-fast-${uniqueSuffix()}`;
    expect(await refused({ scheduleId: everySecond, cron: '* * * * * * *' })).toEqual([
      { field: 'cron', message: 'fires 1 s apart: must fire at most once every 60 s (LIFELINE_SCHEDULE_MIN_INTERVAL_SECONDS)' },
    ]);
    for (const id of [every30s, everySecond]) await expect(client.schedules.describe(id)).rejects.toBeInstanceOf(ScheduleNotFoundError);

    const hourly = `hourly-${uniqueSuffix()}`;
    await client.schedules.create({ scheduleId: hourly, agent, prompt: 'succeed 0 x', cron: '0 * * * *' });
    expect(await client.schedules.describe(hourly)).toMatchObject({ paused: false });
    await client.schedules.create({
      scheduleId: `minutely-${uniqueSuffix()}`,
      agent,
      prompt: 'succeed 0 x',
      intervalSeconds: 60,
      paused: true,
    });
    await waitUntil(async () => (await client.schedules.list({ agent })).length === 2, {
      what: 'both schedules listed',
      timeoutMs: 30_000,
    });
    expect(await refused({ scheduleId: `third-${uniqueSuffix()}`, intervalSeconds: 3600 })).toEqual([
      { field: 'agent', message: `agent "${agent}" has 2 schedules, the limit (LIFELINE_SCHEDULES_PER_AGENT)` },
    ]);
    for (const { scheduleId } of await client.schedules.list({ agent })) await client.schedules.delete(scheduleId);
  });

  it('refuses each invalid field with an error naming it, and creates nothing', async () => {
    const valid: CreateScheduleRequest = {
      scheduleId: `invalid-${uniqueSuffix()}`,
      agent: h.agent('demo'),
      prompt: 'succeed 0 x',
      intervalSeconds: 60,
    };
    const cases: { field: string; change: Record<string, unknown> }[] = [
      { field: 'scheduleId', change: { scheduleId: '-leading-dash' } },
      { field: 'scheduleId', change: { scheduleId: 'x'.repeat(101) } },
      { field: 'scheduleId', change: { scheduleId: 'has space' } },
      { field: 'agent', change: { agent: 'Not A Name' } },
      { field: 'agent', change: { agent: 'no-such-agent' } },
      { field: 'prompt', change: { prompt: '   ' } },
      { field: 'prompt', change: { prompt: 'a'.repeat(limits.promptBytes + 1) } },
      { field: 'cron', change: { cron: '0 3 * * *' } },
      { field: 'cron', change: { intervalSeconds: undefined } },
      { field: 'cron', change: { intervalSeconds: undefined, cron: 'every tuesday' } },
      { field: 'cron', change: { intervalSeconds: undefined, cron: 'CRON_TZ=Europe/Paris 0 3 * * *' } },
      { field: 'intervalSeconds', change: { intervalSeconds: 0 } },
      { field: 'intervalSeconds', change: { intervalSeconds: 1.5 } },
      // A date that never comes: Temporal takes it, and it would never fire.
      { field: 'cron', change: { intervalSeconds: undefined, cron: '0 3 31 2 *' } },
      { field: 'timezone', change: { intervalSeconds: undefined, cron: '0 3 * * *', timezone: 'Mars/Olympus' } },
      { field: 'timezone', change: { intervalSeconds: undefined, cron: '0 3 * * *', timezone: '+01:00' } },
      // A zone means nothing to an interval: refused rather than ignored.
      { field: 'timezone', change: { timezone: 'Europe/Paris' } },
      { field: 'timeoutSeconds', change: { timeoutSeconds: 0 } },
      { field: 'timeoutSeconds', change: { timeoutSeconds: limits.timeoutSeconds.max + 1 } },
      { field: 'busyPolicy', change: { busyPolicy: 'later' } },
      { field: 'overlap', change: { overlap: 'sometimes' } },
      { field: 'overlap', change: { overlap: 'terminate_other' } },
    ];
    for (const { field, change } of cases) {
      const err = await h.client.schedules.create({ ...valid, ...change } as CreateScheduleRequest).then(
        () => 'created',
        (e: unknown) => e,
      );
      expect(err, `${field} ${JSON.stringify(change).slice(0, 80)}`).toBeInstanceOf(InvalidExecutionInputError);
      expect((err as InvalidExecutionInputError).issues.map((i) => i.field)).toEqual([field]);
    }
    await expect(h.client.schedules.describe(valid.scheduleId)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});
