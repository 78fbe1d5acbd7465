import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/util/wait-until.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { protoText } from './support/history-text.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe("an agent's bearer token", () => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: {} } });
    token = h.agentServerConfig.agents[h.agent('demo')]!.token;
  });
  afterAll(async () => h?.close());

  it('is used to run the execution but never enters its history or its pending activity state', async () => {
    const prompt = `succeed 2 secrets-${randomBytes(6).toString('hex')}`;
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt });
    const handle = h.temporal.workflow.getHandle(executionId);

    // The run activity heartbeats the agent's state while the process runs: that state is stored by Temporal too.
    await waitForAgentProcess(h, 'demo', executionId);
    const live = await waitUntil(
      async () => {
        const { raw } = await handle.describe();
        return raw.pendingActivities?.some((a) => a.heartbeatDetails?.payloads?.length) ? raw : undefined;
      },
      { what: `a heartbeat of ${executionId}`, timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(protoText(live)).not.toContain(token);

    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    const history = protoText(await handle.fetchHistory());
    // The same search finds what workflow inputs do carry, so an absent token is a real absence.
    expect(history).toContain(prompt);
    expect(history).not.toContain(token);
  });
});
