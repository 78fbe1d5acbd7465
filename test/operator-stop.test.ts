import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/util/wait-until.js';
import { waitForRowStatus } from 'lifeline/testing';
import { leaseHolders, probePid, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { sampleWindow } from './support/sample-window.js';

/**
 * With the production heartbeat timeout, a cancellation reaches an activity only with a heartbeat
 * that is sent: up to 24 s later. A stop must not wait for it.
 */
const heartbeatTimeoutSeconds = 30;
const throttledHeartbeatMs = 0.8 * heartbeatTimeoutSeconds * 1000;

describe('an operator stop with a long heartbeat timeout', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { solo: { capacity: 1 } }, settings: { heartbeatTimeoutSeconds } });
  });
  afterAll(async () => h?.close());

  it('reaches the agent process at once, not with the next heartbeat', async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'hang' });
    const pid = await waitForAgentProcess(h, 'solo', executionId);
    const stoppedAt = Date.now();
    await h.client.stopExecution(executionId, 'stop now');
    await waitUntil(async () => probePid(pid) === 'ESRCH', {
      what: `process ${pid} to end`,
      timeoutMs: throttledHeartbeatMs / 2,
      intervalMs: 20,
    });
    const row = await h.client.waitForExecution(executionId, throttledHeartbeatMs / 2);
    expect(row).toMatchObject({ status: 'cancelled', errorKind: 'cancelled_by_operator' });
    expect(row.finishedAt!.getTime() - stoppedAt).toBeLessThan(throttledHeartbeatMs / 2);
    await waitForSlotReleased(h, 'solo', executionId);
  });

  it('a stopped queued wait never takes the slot afterwards, and leaves the queue at once', async () => {
    const holder = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'hang' });
    await waitForAgentProcess(h, 'solo', holder.executionId);
    const queued = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 0 never', busyPolicy: 'queue' });
    await waitUntil(async () => (await h.slots.waiting(h.agent('solo'))).includes(queued.executionId), {
      what: 'the second execution to wait in the queue',
      timeoutMs: 10_000,
      intervalMs: 20,
    });

    await h.client.stopExecution(queued.executionId, 'no longer needed');
    expect(await h.client.waitForExecution(queued.executionId, 10_000)).toMatchObject({ status: 'cancelled' });
    // From here on, every look at the agent's slots (not only the last) must find no trace of the stopped wait.
    const slotsSeen = sampleWindow(async () => [...(await leaseHolders(h, 'solo')), ...(await h.slots.waiting(h.agent('solo')))]);

    // The slot comes free while the stopped wait (cancelled only at its next heartbeat) may still be trying.
    await h.client.stopExecution(holder.executionId, 'free the slot');
    await waitForRowStatus(h.executions, holder.executionId, 'cancelled');
    await waitForSlotReleased(h, 'solo', holder.executionId);
    const next = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 3 next', busyPolicy: 'skip' });
    expect(await h.client.waitForExecution(next.executionId, 30_000)).toMatchObject({ status: 'succeeded' });
    await waitForSlotReleased(h, 'solo', next.executionId);
    // The slot is free again, and the stopped wait may still try for up to a heartbeat interval (24 s):
    // a try as it makes one now is refused, as is every later one, while anyone else gets the slot.
    expect(await h.slots.tryAcquire(h.agent('solo'), queued.executionId, 1, 'queue')).toBe(false);
    const samples = await slotsSeen.stop();
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.filter((ids) => ids.includes(queued.executionId))).toEqual([]);
    expect(await h.slots.waiting(h.agent('solo'))).toEqual([]);
    const probe = `${queued.executionId}-probe`;
    expect(await h.slots.tryAcquire(h.agent('solo'), probe, 1, 'skip')).toBe(true);
    await h.slots.release(h.agent('solo'), probe);
  });
});
