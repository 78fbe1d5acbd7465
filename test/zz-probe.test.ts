import { afterAll, beforeAll, expect, it } from 'vitest';
import { leaseHolders, waitForAgentProcess } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
let h: Harness;
beforeAll(async () => { h = await startHarness({ agents: { solo: { capacity: 1 } } }); });
afterAll(async () => h?.close());
it('probe', async () => {
  const { executionId: holder } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'hang' });
  await waitForAgentProcess(h, 'solo', holder);
  const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 0 x', busyPolicy: 'queue', queueTimeoutSeconds: 2 });
  const row = await h.client.waitForExecution(executionId, 30_000);
  const t0 = Date.now();
  console.log('TERMINAL', row.status, row.errorKind);
  // free the slot right away
  await h.client.stopExecution(holder, 'x');
  for (let i = 0; i < 40; i++) {
    console.log('T+', Date.now() - t0, 'leases', await leaseHolders(h, 'solo'), 'waiting', await h.slots.waiting(h.agent('solo')), (await h.executions.get(holder))?.status);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(1).toBe(1);
}, 60_000);
