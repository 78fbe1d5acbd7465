import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/util/wait-until.js';
import { waitForAgentProcess } from './support/execution-probes.js';
import { protoText } from './support/history-text.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

describe('an agent process', () => {
  let h: Harness;
  beforeAll(async () => {
    // In the environment of the process that runs the agent server, so that the check below can fail.
    process.env.LIFELINE_CODEC_KEYS = 'probe:secret-in-the-server-environment';
    process.env.DATABASE_URL = 'postgres://probe:secret-in-the-server-environment@127.0.0.1:1/probe';
    process.env.REDIS_URL = 'redis://:secret-in-the-server-environment@127.0.0.1:1';
    h = await startHarness({ agents: { env: { config: { command: ['sh', '-c', 'env', 'sh'] } } } });
  });
  afterAll(async () => {
    delete process.env.LIFELINE_CODEC_KEYS;
    delete process.env.DATABASE_URL;
    delete process.env.REDIS_URL;
    await h?.close();
  });

  it("inherits none of Lifeline's settings or secrets, only what a command needs and its execution id", async () => {
    const { executionId } = await h.client.startExecution({ agent: h.agent('env'), prompt: 'print the environment' });
    const row = await h.client.waitForExecution(executionId, 30_000);
    expect(row.status).toBe('succeeded');
    const names = (row.output ?? '').split('\n').map((line) => line.split('=')[0]);
    expect(names).toContain('PATH');
    expect(row.output).toContain(`LIFELINE_EXECUTION_ID=${executionId}`);
    expect(row.output).toContain('LIFELINE_USAGE_FD=3');
    expect(names.filter((name) => /^(LIFELINE_(?!EXECUTION_ID|USAGE_FD)|DATABASE_URL|REDIS_URL)/.test(name ?? ''))).toEqual([]);
    expect(row.output).not.toContain('secret-in-the-server-environment');
  });
});

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
