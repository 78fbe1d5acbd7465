import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { waitUntil } from '../src/util/wait-until.js';
import { reconcileWorkflow } from '../src/workflows/reconcile.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

/**
 * A dead worker's cycle is retried once the reconcile workflow's heartbeat timeout (5 s,
 * src/workflows/reconcile.ts) has passed: well within this, however loaded the machine, and far
 * from the 10-minute start-to-close timeout that would retry it otherwise.
 */
const retriedWithinMs = 30_000;

/** Accepts connections and never answers: an agent that makes each cycle wait for its listing. */
async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a reconcile cycle whose worker dies', () => {
  let h: Harness;
  let db: PrivateDatabase;
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    db = await createPrivateDatabase('reconcile_kill');
    h = await startHarness({ agents: { demo: {} }, worker: false, databaseUrl: db.url });
    blackhole = await startBlackhole();
    await h.deps.agents.upsert({
      name: `frozen-${uniqueSuffix()}`,
      baseUrl: blackhole.url,
      token: literalToken('t'),
      capacity: 1,
      defaultTimeoutSeconds: null,
    });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await blackhole?.close();
    await h?.close();
    await db?.drop();
  });

  it('is retried on another worker within seconds, not after its 10-minute timeout', async () => {
    const noSchedule = { LIFELINE_RECONCILE_INTERVAL_SECONDS: '0' };
    const first = await startWorkerProcess(h, 'reconciler-a', noSchedule);
    workers.push(first);
    const handle = await h.temporal.workflow.start(reconcileWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: `reconcile-kill-${uniqueSuffix()}`,
      args: [{ sweep: 'anomalies' }],
    });
    const pendingCycle = async () => (await handle.describe()).raw.pendingActivities?.[0];
    // The cycle is under way (it waits on the frozen agent's listing) and has heartbeated.
    // `?? undefined`: a cycle that has not heartbeated yet has a null time, which must not end the wait.
    await waitUntil(async () => (await pendingCycle())?.lastHeartbeatTime ?? undefined, {
      what: 'the cycle to heartbeat',
      timeoutMs: 30_000,
    });

    await first.kill('SIGKILL');
    const killedAt = Date.now();
    // Watched while the next worker starts, which may itself take seconds: the retry is timed, not the start.
    const retriedAt = waitUntil(
      async () => ((await pendingCycle())?.attempt ?? 0) >= 2 || (await handle.describe()).status.name === 'COMPLETED',
      { what: 'the cycle to be retried', timeoutMs: 60_000, intervalMs: 100 },
    ).then(() => Date.now());
    workers.push(await startWorkerProcess(h, 'reconciler-b', noSchedule));
    expect((await retriedAt) - killedAt).toBeLessThan(retriedWithinMs);
    const report = await handle.result();
    expect(report.failures).toEqual([]);
    // The cycle that completed is the retry on the second worker, whichever the wait above saw.
    const { events } = await handle.fetchHistory();
    const started = (events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt).at(-1)).toBeGreaterThanOrEqual(2);
  });
});
