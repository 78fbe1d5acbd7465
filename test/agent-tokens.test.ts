import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenReference } from '../src/domain/token-reference.js';
import { loadConfig } from '../src/config/config.js';
import { migrationsDir } from '../src/db/migrate.js';
import { createAgentStore } from '../src/store/agent-store.js';
import { startHarness, uniqueSuffix, type Harness } from './support/lifeline-harness.js';
import { steppedDatabase } from './support/private-database.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

describe('an agent whose token is held by reference', () => {
  let h: Harness;
  let dir: string;
  let agentToken: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-tokens-'));
    // The worker reads token files in this directory only (LIFELINE_AGENT_TOKEN_DIR).
    h = await startHarness({ agents: { demo: {} }, deps: { agentTokens: { ...loadConfig({}).agentTokens, dir } } });
    agentToken = h.agentServerConfig.agents[h.agent('demo')]!.token;
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Another name for the harness's demo agent, registered with this token reference. */
  async function registered(label: string, token: TokenReference): Promise<string> {
    const name = `${label}-${uniqueSuffix()}`;
    await h.deps.agents.upsert({
      name,
      baseUrl: h.agentServer().baseUrlFor(h.agent('demo')),
      token,
      capacity: 2,
      defaultTimeoutSeconds: 60,
    });
    return name;
  }

  async function run(agent: string, prompt: string) {
    const { executionId } = await h.client.startExecution({ agent, prompt });
    return { executionId, row: await h.client.waitForExecution(executionId, 30_000) };
  }

  it('env: the worker reads the variable from its environment when it calls the agent', async () => {
    // A name LIFELINE_AGENT_TOKEN_ENV allows by default (AGENT_TOKEN_*).
    const variable = `AGENT_TOKEN_TEST_${uniqueSuffix()}`;
    const agent = await registered('by-env', { source: 'env', ref: variable });
    process.env[variable] = agentToken;
    try {
      const { row } = await run(agent, 'succeed 0 token from the environment');
      expect(row).toMatchObject({ status: 'succeeded', output: expect.stringContaining('token from the environment') });
    } finally {
      delete process.env[variable];
    }
  });

  it('file: the worker reads the file when it calls the agent, so a rotated token needs no re-registration', async () => {
    const path = join(dir, 'agent-token');
    const agent = await registered('by-file', { source: 'file', ref: path });
    writeFileSync(path, 'an-old-token\n');
    const refused = await run(agent, 'succeed 0 old token');
    expect(refused.row).toMatchObject({ status: 'failed', errorKind: 'agent_rejected' });
    expect(refused.row.error).not.toContain('an-old-token');

    writeFileSync(path, `${agentToken}\n`);
    const { row } = await run(agent, 'succeed 0 token from the file');
    expect(row).toMatchObject({ status: 'succeeded', output: expect.stringContaining('token from the file') });
  });

  it('an unset variable fails the execution at once, naming the agent, the reference and what is wrong', async () => {
    const variable = `AGENT_TOKEN_UNSET_${uniqueSuffix()}`;
    const agent = await registered('unset', { source: 'env', ref: variable });
    const { executionId, row } = await run(agent, 'succeed 0 never runs');
    expect(row).toMatchObject({
      status: 'failed',
      errorKind: 'agent_misconfigured',
      error: `agent "${agent}": token env:${variable} is not set in the worker's environment`,
    });
    const transitions = await h.executions.transitions(executionId);
    expect(transitions.map((t) => t.toStatus)).toEqual(['queued', 'failed']);

    // One attempt of the run, no retry, and no stop: no process was ever started.
    const { events } = await h.temporal.workflow.getHandle(executionId).fetchHistory();
    const activities = (events ?? []).flatMap((e: HistoryEvent) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities).toEqual(['runAgent']);
    const attempts = (events ?? []).flatMap((e: HistoryEvent) => e.activityTaskStartedEventAttributes?.attempt ?? []);
    expect(attempts).toEqual([1]);
    expect(await h.agentStarts()).not.toHaveProperty(executionId);
  });

  it('a missing file fails the execution the same way', async () => {
    const path = join(dir, 'never-written');
    const agent = await registered('missing', { source: 'file', ref: path });
    const { row } = await run(agent, 'succeed 0 never runs');
    expect(row).toMatchObject({
      status: 'failed',
      errorKind: 'agent_misconfigured',
      error: `agent "${agent}": token file:${path} cannot be read on the worker: no such file`,
    });
  });
});

describe('the migration to token references', () => {
  const db = steppedDatabase('token_migration');
  // 0004, the token migration, and every one after it.
  const laterMigrations = readdirSync(migrationsDir).filter((file) => /^\d{4}_/.test(file) && file >= '0004').length;

  it('keeps an agent registered with a stored token as a literal, and goes back only while every token is one', async () => {
    await db.migrate('up', 3);
    await db.pool.query(
      `INSERT INTO agents (name, base_url, auth_token, capacity) VALUES ('old-agent', 'http://127.0.0.1:9', 'the-old-token', 2)`,
    );
    await db.migrate('up', laterMigrations);

    const agents = createAgentStore(db.pool);
    expect(await agents.getRegistration('old-agent')).toMatchObject({ capacity: 2, token: { source: 'literal', ref: 'the-old-token' } });
    expect(await agents.list()).toEqual([expect.objectContaining({ name: 'old-agent', token: { source: 'literal' } })]);
    await expect(
      db.pool.query(
        `INSERT INTO agents (name, base_url, token_source, token_ref, capacity) VALUES ('rel', 'http://x', 'file', 'run/x', 1)`,
      ),
    ).rejects.toThrow(/agents_token_ref_check/);

    const registerWithEnv = (name: string, variable: string) =>
      agents.upsert({
        name,
        baseUrl: 'http://127.0.0.1:9',
        token: { source: 'env', ref: variable },
        capacity: 1,
        defaultTimeoutSeconds: null,
      });
    await registerWithEnv('new-agent', 'NEW_TOKEN');
    // Workers of the release before go on beside this one: they read and write auth_token (0008).
    const authToken = async (name: string) =>
      (await db.pool.query<{ auth_token: string | null }>('SELECT auth_token FROM agents WHERE name = $1', [name])).rows[0]?.auth_token;
    expect(await authToken('old-agent')).toBe('the-old-token');
    expect(await authToken('new-agent')).toBeNull();
    // The old release's `agents add`, twice: a registration, then a rotation.
    const oldRegistration = (token: string) =>
      db.pool.query(
        `INSERT INTO agents (name, base_url, auth_token, capacity) VALUES ('older', 'http://127.0.0.1:9', $1, 1)
         ON CONFLICT (name) DO UPDATE SET auth_token = EXCLUDED.auth_token`,
        [token],
      );
    await oldRegistration('older-token');
    await oldRegistration('rotated');
    expect((await agents.getRegistration('older'))?.token).toEqual({ source: 'literal', ref: 'rotated' });
    await registerWithEnv('older', 'OLDER');
    expect(await authToken('older')).toBeNull();
    await db.pool.query(`DELETE FROM agents WHERE name = 'older'`);

    // Back to 0004, the token migration, whose own down step is the one under test.
    await db.migrate('down', laterMigrations - 1);
    await expect(db.migrate('down', 1)).rejects.toThrow(/cannot go back to stored tokens/);
    await db.pool.query(`DELETE FROM agents WHERE name = 'new-agent'`);
    await db.migrate('down', 1);
    const { rows } = await db.pool.query<{ auth_token: string }>(`SELECT auth_token FROM agents WHERE name = 'old-agent'`);
    expect(rows).toEqual([{ auth_token: 'the-old-token' }]);
  });
});
