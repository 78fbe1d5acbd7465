import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.js';
import { PostgresServer } from '../src/stack/postgres-server.js';
import { RedisServer } from '../src/stack/redis-server.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { freezeRun, waitForAgentProcess, waitForRunHeartbeat, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

/**
 * Compensation must outlast an outage: these tests own a Postgres and a Redis of their own so
 * they can stop them in the middle of an execution's finalize.
 */
describe('Postgres or Redis down during compensation', () => {
  const log = silentLogger();
  let dir: string;
  let postgres: PostgresServer;
  let redis: RedisServer;
  let h: Harness;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-outage-'));
    postgres = await PostgresServer.create({ dir: join(dir, 'postgres'), database: 'lifeline', log, unsafeFast: true });
    redis = await RedisServer.create({ dir: join(dir, 'redis'), log });
    await Promise.all([postgres.start(), redis.start()]);
    await migrate(postgres.url, log);
    h = await startHarness({ agents: { demo: { capacity: 2 } }, databaseUrl: postgres.url, redisUrl: redis.url });
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([postgres?.stop(), redis?.stop()]);
    postgres?.removeData();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Resolves once the run activity has completed, with the time Temporal recorded it: the
   * conclusion, which needs both servers, comes next.
   */
  async function runEnded(executionId: string): Promise<number> {
    return waitUntil(
      async () => {
        const events = (await h.temporal.workflow.getHandle(executionId).fetchHistory()).events ?? [];
        const runScheduled = new Set(
          events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runAgent').map((e) => String(e.eventId)),
        );
        const completed = events.find((e) => runScheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)));
        return completed?.eventTime
          ? Number(completed.eventTime.seconds) * 1000 + Math.floor((completed.eventTime.nanos ?? 0) / 1e6)
          : undefined;
      },
      { what: `the run of ${executionId} to end`, timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  /** When the workflow closed (its last step needs the server that was down), once it has. */
  function workflowClosedAt(executionId: string): Promise<number> {
    return waitUntil(async () => (await h.temporal.workflow.getHandle(executionId).describe()).closeTime?.getTime(), {
      what: `the workflow of ${executionId} to close`,
      timeoutMs: 60_000,
    });
  }

  async function workflowStatus(executionId: string): Promise<string> {
    return (await h.temporal.workflow.getHandle(executionId).describe()).status.name;
  }

  /**
   * Stops `server` while the run's processes are frozen (a few seconds before the run would end),
   * so the run cannot end before the server is down, however long the heartbeat and the stop take
   * on a loaded machine.
   */
  async function stopWhileRunFrozen(executionId: string, server: { stop(): Promise<void> }): Promise<void> {
    const frozen = freezeRun(await waitForAgentProcess(h, 'demo', executionId));
    try {
      await waitForRunHeartbeat(h, executionId);
      await server.stop();
    } finally {
      frozen.thaw();
    }
  }

  it('Postgres stopped before the terminal write: the row ends succeeded once Postgres is back', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'succeed 5 through a postgres outage' });
    await stopWhileRunFrozen(executionId, postgres);
    let runEndedAt: number;
    let restartedAt: number;
    try {
      runEndedAt = await runEnded(executionId);
      // The conclusion keeps retrying: without Postgres the workflow cannot end.
      expect(await workflowStatus(executionId)).toBe('RUNNING');
    } finally {
      restartedAt = Date.now();
      await postgres.start();
    }
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.output).toContain('through a postgres outage');
    const terminal = (await h.executions.transitions(executionId)).filter((t) => t.toStatus === 'succeeded');
    expect(terminal).toHaveLength(1);
    // In that order, by the times recorded: the run ended while Postgres was down, and its ending
    // was written, and the workflow closed, only once Postgres was started again.
    expect(runEndedAt).toBeLessThan(restartedAt);
    expect(terminal[0]!.at.getTime()).toBeGreaterThanOrEqual(restartedAt);
    expect(await workflowClosedAt(executionId)).toBeGreaterThanOrEqual(restartedAt);
  });

  it('Redis stopped before the slot release: the row ends at once and the slot is released once Redis is back', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: 'succeed 5 through a redis outage' });
    await stopWhileRunFrozen(executionId, redis);
    let restartedAt: number;
    try {
      // The terminal write comes first and does not wait for Redis; the release does.
      await waitUntil(async () => (await h.executions.get(executionId))?.status === 'succeeded', {
        what: `${executionId} to be succeeded while Redis is down`,
        timeoutMs: 60_000,
      });
      expect(await workflowStatus(executionId)).toBe('RUNNING');
    } finally {
      restartedAt = Date.now();
      await redis.start();
    }
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    await waitForSlotReleased(h, 'demo', executionId);
    // By the times recorded: the release, the workflow's last step, waited for Redis to be started again.
    expect(row.finishedAt!.getTime()).toBeLessThan(restartedAt);
    expect(await workflowClosedAt(executionId)).toBeGreaterThanOrEqual(restartedAt);
  });
});
