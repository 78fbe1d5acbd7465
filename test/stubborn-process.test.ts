import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseHolders, probePid, waitForAgentOutput, waitForAgentProcess, waitForSlotReleased } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

/** Far longer than the stop wait: the agent kills the process only after this. */
const stopGraceMs = 15_000;

describe('an agent process that outlives its stop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      agents: { solo: { capacity: 1, config: { stopGraceMs } } },
      settings: { stopWaitSeconds: 1 },
    });
  });
  afterAll(async () => h?.close());

  it('ends its row, but holds the capacity slot until the process is gone', async () => {
    // A deadline long enough for the process to start and ignore SIGTERM on a loaded machine before the stop comes.
    const { executionId } = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'ignore-term', timeoutSeconds: 15 });
    const pid = await waitForAgentProcess(h, 'solo', executionId);
    await waitForAgentOutput(h, 'solo', executionId);

    const row = await h.client.waitForExecution(executionId, 30_000);
    expect(row).toMatchObject({ status: 'timed_out', errorKind: 'deadline_exceeded' });
    expect(row.error).toMatch(/could not be confirmed stopped: .*still running/);
    // The row is final while the process still runs: the slot must still count against capacity.
    expect(probePid(pid)).toBe('alive');
    expect(await leaseHolders(h, 'solo')).toEqual([executionId]);
    const blocked = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 0', busyPolicy: 'skip' });
    expect(await h.client.waitForExecution(blocked.executionId, 10_000)).toMatchObject({ status: 'skipped' });

    // Once the agent kills it, the workflow's continued stop confirms it and frees the slot.
    await waitForSlotReleased(h, 'solo', executionId, stopGraceMs + 30_000);
    expect(probePid(pid)).toBe('ESRCH');
    const next = await h.client.startExecution({ agent: h.agent('solo'), prompt: 'succeed 0 after', busyPolicy: 'skip' });
    expect(await h.client.waitForExecution(next.executionId, 10_000)).toMatchObject({ status: 'succeeded' });
  });
});
