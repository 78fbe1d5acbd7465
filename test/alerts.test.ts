import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import getPort from 'get-port';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForRowStatus } from 'lifeline/testing';
import type { Alert } from '../src/alerts/webhook.js';
import { createRedis } from '../src/db/redis.js';
import { reconcileOnce } from '../src/reconciler/reconcile.js';
import { createCapacitySlots } from '../src/slots/capacity-slots.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { createPrivateDatabase, type PrivateDatabase } from './support/private-database.js';

/** A local webhook receiver that records every alert posted to it. */
async function startReceiver(): Promise<{ url: string; alerts: Alert[]; server: Server }> {
  const alerts: Alert[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as Alert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, alerts, server };
}

describe('alerts', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let h: Harness;
  let down: Harness;
  let db: PrivateDatabase;
  beforeAll(async () => {
    receiver = await startReceiver();
    // The recovery test runs a reconcile cycle over every live row: other files' rows stay out of it.
    db = await createPrivateDatabase('alerts');
    h = await startHarness({ agents: { alerting: {} }, deps: { webhookUrl: receiver.url }, databaseUrl: db.url });
    // Nothing listens on this port: every delivery fails and is retried with backoff.
    down = await startHarness({ agents: { muted: {} }, deps: { webhookUrl: `http://127.0.0.1:${await getPort()}/hook` } });
  });
  afterAll(async () => {
    await h?.close();
    await down?.close();
    await db?.drop();
    receiver?.server.close();
  });

  it('posts an actionable alert when an execution fails', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('alerting'), prompt: 'fail 4' });
    const alert = await waitUntil(async () => receiver.alerts.find((a) => a.executionId === executionId), {
      what: 'the failure alert',
      timeoutMs: 30_000,
    });
    expect(alert).toMatchObject({ kind: 'execution_failed', agent: h.agent('alerting') });
    expect(alert.summary).toContain('exited with code 4');
    expect(alert.details).toMatchObject({ errorKind: 'agent_failed', exitCode: 4 });
  });

  it('posts a reconciler_degraded alert when a cycle cannot reach Redis, and no other for it', async () => {
    const deadRedis = createRedis(`redis://127.0.0.1:${await getPort()}`, silentLogger());
    try {
      const slots = createCapacitySlots(deadRedis, { leaseMs: 30_000, waiterTtlMs: 10_000 });
      const report = await reconcileOnce({ ...h.deps, slots }, { sweep: 'full' });
      expect(report.failures.map((f) => f.executionId)).toEqual(['(redis)']);
      const alert = await waitUntil(
        async () => receiver.alerts.find((a) => a.kind === 'reconciler_degraded' && /Redis cannot be reached/.test(a.summary)),
        { what: 'the reconciler_degraded alert', timeoutMs: 10_000 },
      );
      expect(alert.details).toMatchObject({ runbook: 'docs/operations.md: The reconciler, Redis' });
      // Its own de-duplicated alert says it: not one more "recoveries failed" every cycle.
      expect(receiver.alerts.filter((a) => a.kind === 'reconciler_degraded' && /reconciler failed/.test(a.summary))).toEqual([]);
    } finally {
      deadRedis.disconnect();
    }
  });

  it('posts a recovery alert when the reconciler finalizes a terminated execution', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('alerting'), prompt: 'hang' });
    await waitForAgentProcess(h, 'alerting', executionId);
    await h.temporal.workflow.getHandle(executionId).terminate('alert test');
    await reconcileOnce(h.deps, { sweep: 'full' });
    const alert = receiver.alerts.find((a) => a.executionId === executionId);
    expect(alert).toMatchObject({ kind: 'execution_recovered', details: { workflow: 'TERMINATED' } });
  });

  it('a webhook that is down does not delay the terminal write', async () => {
    const { executionId } = await down.client.startExecution({ agent: down.agent('muted'), prompt: 'fail 1' });
    const row = await waitForRowStatus(down.executions, executionId, 'failed');
    expect(row.errorKind).toBe('agent_failed');
    // The row is final while the workflow is still retrying the alert delivery.
    const { status } = await down.temporal.workflow.getHandle(executionId).describe();
    expect(status.name).toBe('RUNNING');
  });

  it('every transition is announced on the lifeline_transitions channel', async () => {
    const listener = new pg.Client({ connectionString: h.databaseUrl });
    await listener.connect();
    const seen: { executionId: string; from: string | null; to: string }[] = [];
    listener.on('notification', (n) => seen.push(JSON.parse(n.payload ?? '{}')));
    await listener.query('LISTEN lifeline_transitions');
    try {
      const { executionId } = await h.client.startExecution({ agent: h.agent('alerting'), prompt: 'succeed 0 notify me' });
      await waitUntil(async () => seen.filter((n) => n.executionId === executionId).length === 3, {
        what: 'three transition notifications',
        timeoutMs: 30_000,
      });
      expect(seen.filter((n) => n.executionId === executionId).map((n) => `${n.from ?? '-'}>${n.to}`)).toEqual([
        '->queued',
        'queued>running',
        'running>succeeded',
      ]);
    } finally {
      await listener.end();
    }
  });
});
