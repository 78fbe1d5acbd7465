import { Client, Connection, type WorkflowClient } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { literalToken } from '../src/domain/token-reference.js';
import { buildLifelineDeps } from '../src/wiring/build-lifeline-deps.js';
import { createConclusionActivities } from '../src/activities/conclusion-activities.js';
import { type ConcludeInput } from '../src/contract/execution-activities.js';
import type { LifelineDeps } from '../src/deps/lifeline-deps.js';
import { agentRequestTimeoutMs, createRunActivities } from '../src/activities/run-activities.js';
import { type RunAgentInput } from '../src/contract/execution-activities.js';
import { createAgentClient, type AgentClient } from '../src/agent/agent-client.js';
import { AgentUnreachableError } from '../src/agent/agent-errors.js';
import { startAgentServer, type AgentServer } from '../src/agent-server/agent-server.js';
import { demoAgentConfig } from '../src/agent-server/demo-agents.js';
import type { AgentRunSummary, RunHeartbeat } from '../src/domain/execution-types.js';
import { createAgentStore } from '../src/store/agent-store.js';
import { createExecutionStore } from '../src/store/execution-store.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { testDepsConfig, testSettings } from './support/test-settings.js';
import { probePid } from './support/execution-probes.js';

const suffix = randomBytes(4).toString('hex');
const agent = `run-act-${suffix}`;
const unreachableAgent = `run-act-gone-${suffix}`;
const token = randomBytes(12).toString('hex');
let ids = 0;
const newId = (label: string) => `run-act-${suffix}-${label}-${++ids}`;

/** A fresh environment per run: MockActivityEnvironment reuses its context, cancellation included. */
function activityEnv(heartbeatDetails?: RunHeartbeat, attempt = 1): MockActivityEnvironment {
  return new MockActivityEnvironment(
    { activityType: 'runAgent', heartbeatDetails, attempt, heartbeatTimeoutMs: testSettings.heartbeatTimeoutSeconds * 1000 },
    { logger: new DefaultLogger('ERROR') },
  );
}

type RunAgent = (input: RunAgentInput) => Promise<AgentRunSummary>;

/** Runs the activity function inside the environment's activity context. */
function runIn(env: MockActivityEnvironment, fn: RunAgent, input: RunAgentInput): Promise<AgentRunSummary> {
  return env.run<[RunAgentInput], AgentRunSummary, RunAgent>(fn, input);
}

/** A port nothing listens on: bound once to get it from the OS, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the run activity against a real agent server, Postgres and Redis', () => {
  let pool: pg.Pool;
  let redis: Redis;
  let server: AgentServer;
  let deps: LifelineDeps;
  let agentClient: AgentClient;
  let activities: ReturnType<typeof createRunActivities>;
  let runAgent: RunAgent;
  let temporalConnection: Connection;
  let workflows: WorkflowClient;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
    redis = new Redis(inject('redisUrl'));
    server = await startAgentServer({ agents: { [agent]: demoAgentConfig(token, { stopGraceMs: 2000 }) } }, silentLogger());
    const agents = createAgentStore(pool);
    await agents.upsert({
      name: agent,
      baseUrl: server.baseUrlFor(agent),
      token: literalToken(token),
      capacity: 5,
      defaultTimeoutSeconds: null,
    });
    await agents.upsert({
      name: unreachableAgent,
      baseUrl: `http://127.0.0.1:${await closedPort()}/agents/${unreachableAgent}`,
      token: literalToken(token),
      capacity: 1,
      defaultTimeoutSeconds: null,
    });
    temporalConnection = await Connection.connect({ address: inject('temporalAddress') });
    workflows = new Client({ connection: temporalConnection, namespace: inject('namespace') }).workflow;
    deps = buildLifelineDeps({ pool, redis, workflows, config: testDepsConfig(), log: silentLogger() });
    activities = createRunActivities(deps);
    runAgent = activities.runAgent;
    agentClient = createAgentClient({ baseUrl: server.baseUrlFor(agent), token });
  });

  afterAll(async () => {
    await server?.close();
    await temporalConnection?.close();
    if (pool) {
      await pool.query('DELETE FROM executions WHERE agent = ANY($1)', [[agent, unreachableAgent]]);
      await pool.query('DELETE FROM agents WHERE name = ANY($1)', [[agent, unreachableAgent]]);
      await pool.end();
    }
    if (redis) {
      const keys = await redis.keys(`lifeline:slots:{${agent}}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  /** A `running` row for the activity to write its output to, as the workflow leaves it. */
  async function runningExecution(label: string, prompt: string, agentName = agent): Promise<RunAgentInput> {
    const executionId = newId(label);
    const store = createExecutionStore(pool, { maxOutputBytes: testSettings.maxOutputBytes });
    await store.create({ id: executionId, agent: agentName, prompt, trigger: 'test', busyPolicy: 'skip', timeoutSeconds: 60 });
    expect(await store.transition(executionId, 'running', { actor: 'workflow' })).toMatchObject({ applied: true });
    return { executionId, agent: agentName, prompt, timeoutSeconds: 60 };
  }

  async function spawnCounts(): Promise<Record<string, number>> {
    const res = await fetch(`${server.baseUrlFor(agent)}/_debug/starts`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, number>;
  }

  it('long-polls an agent that supports it: few reads, and the run is seen ended at once', async () => {
    // A long heartbeat timeout allows 30 s polls; plain polling would read every second.
    const settings = { ...testSettings, heartbeatTimeoutSeconds: 90, pollIntervalMs: 1000 };
    let reads = 0;
    const counting: LifelineDeps = {
      ...deps,
      settings: { ...deps.settings, execution: settings },
      agentClient: async (a, timeoutMs) => {
        const client = await deps.agentClient(a, timeoutMs);
        return Object.assign(Object.create(client) as AgentClient, {
          get: (...args: Parameters<AgentClient['get']>) => (reads++, client.get(...args)),
        });
      },
    };
    const input = await runningExecution('long-poll', 'succeed 3 polled');
    const env = new MockActivityEnvironment(
      { activityType: 'runAgent', heartbeatTimeoutMs: 90_000 },
      { logger: new DefaultLogger('ERROR') },
    );
    const summary = await runIn(env, createRunActivities(counting).runAgent, input);
    const returnedAt = Date.now();
    expect(summary.status).toBe('succeeded');
    const finishedAt = Date.parse((await agentClient.get(input.executionId))!.finishedAt!);
    // A poll not answered at the run's end would return at the end of its 30 s wait, about 27 s after
    // it: 10 s leaves a loaded machine room on both sides.
    expect(returnedAt - finishedAt).toBeLessThan(10_000);
    // One read after the start: it waits out the whole 3 s run (plain polling: three or four).
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('re-attaches to the agent execution an earlier attempt started, from the heartbeat details', async () => {
    const input = await runningExecution('resume', 'succeed 2 resumed');
    // The earlier attempt (on a worker that died) had started it.
    const started = await agentClient.start({ id: input.executionId, prompt: input.prompt, timeoutSeconds: 60, metadata: {} });
    expect(started.status).toBe('running');

    const env = activityEnv({ started: true, agentStatus: 'running', polls: 3 });
    const beats: RunHeartbeat[] = [];
    env.on('heartbeat', (d: RunHeartbeat) => beats.push(d));
    const summary = await runIn(env, runAgent, input);

    expect(summary).toMatchObject({ status: 'succeeded', exitCode: 0, error: null });
    expect((await spawnCounts())[input.executionId]).toBe(1);
    // The poll count carries on from the earlier attempt's details.
    expect(beats[0]!.polls).toBeGreaterThanOrEqual(3);
    expect(beats.at(-1)!.polls).toBeGreaterThan(3);
    expect(beats.at(-1)!.pid).toBe(started.pid);

    // The workflow then concludes: the output goes into the row with the terminal status.
    const { conclude } = createConclusionActivities(deps);
    const conclusion: ConcludeInput = {
      executionId: input.executionId,
      agent,
      outcome: { status: 'succeeded', exitCode: 0 },
      actor: 'workflow',
      storeOutput: true,
    };
    const concluded = await activityEnv().run(conclude, conclusion);
    expect(concluded).toEqual({ status: 'succeeded', applied: true });
    const row = await deps.executions.get(input.executionId);
    expect(row!.status).toBe('succeeded');
    expect(row!.output).toContain('resumed');
    expect(row!.outputBytes).toBe(summary.outputBytes);
    expect(row!.outputTruncated).toBe(false);
  });

  it('fails with agent_lost_execution when the agent does not know an execution the details say was started', async () => {
    const input = await runningExecution('lost', 'succeed 0 never started');
    const env = activityEnv({ started: true, agentStatus: 'running', pid: 999_999, polls: 7 });

    const err = await runIn(env, runAgent, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'agent_lost_execution', nonRetryable: true });
    // It must not start a second execution in place of the lost one.
    expect((await spawnCounts())[input.executionId]).toBeUndefined();
    expect(await agentClient.get(input.executionId)).toBeUndefined();
    expect((await deps.executions.get(input.executionId))!.output).toBeNull();
  });

  describe('a retry with no heartbeat of an earlier attempt (lost with a Temporal restart)', () => {
    it('re-attaches to the run the earlier attempt started, starting nothing', async () => {
      const input = await runningExecution('retry-known', 'succeed 1 started once');
      await agentClient.start({ id: input.executionId, prompt: input.prompt, timeoutSeconds: 60, metadata: {} });
      const summary = await runIn(activityEnv(undefined, 2), runAgent, input);
      expect(summary).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect((await spawnCounts())[input.executionId]).toBe(1);
    });

    it('fails with agent_lost_execution when the agent restarted after the start may have been sent, never starting it again', async () => {
      // The row turned running as the earlier attempt sent the start; the agent (its server) restarted since.
      const restartedAgent = `run-act-restarted-${suffix}`;
      const register = (baseUrl: string) =>
        createAgentStore(pool).upsert({
          name: restartedAgent,
          baseUrl,
          token: literalToken(token),
          capacity: 1,
          defaultTimeoutSeconds: null,
        });
      await register('http://127.0.0.1:9');
      const input = await runningExecution('retry-lost', 'succeed 0 must not run twice', restartedAgent);
      const restarted = await startAgentServer({ agents: { [restartedAgent]: demoAgentConfig(token) } }, silentLogger());
      try {
        await register(restarted.baseUrlFor(restartedAgent));
        const err = await runIn(activityEnv(undefined, 2), runAgent, input).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ type: 'agent_lost_execution', nonRetryable: true });
        const starts = await fetch(`${restarted.baseUrlFor(restartedAgent)}/_debug/starts`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(starts.status).toBe(200);
        expect(((await starts.json()) as Record<string, number>)[input.executionId]).toBeUndefined();
      } finally {
        await restarted.close();
        await pool.query('DELETE FROM executions WHERE agent = $1', [restartedAgent]);
        await pool.query('DELETE FROM agents WHERE name = $1', [restartedAgent]);
      }
    });

    it('starts the run when the agent, up since well before the start may have been sent, never had it (the start never arrived)', async () => {
      const input = await runningExecution('retry-unsent', 'succeed 0 started by the retry');
      // The earlier attempt marked the row after this agent (up since the file began) came up.
      const summary = await runIn(activityEnv(undefined, 2), runAgent, input);
      expect(summary).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect((await spawnCounts())[input.executionId]).toBe(1);
    });

    it('starts the run when no earlier attempt got as far as marking the row', async () => {
      const executionId = newId('retry-queued');
      const store = createExecutionStore(pool, { maxOutputBytes: testSettings.maxOutputBytes });
      await store.create({
        id: executionId,
        agent,
        prompt: 'succeed 0 first start',
        trigger: 'test',
        busyPolicy: 'skip',
        timeoutSeconds: 60,
      });
      const summary = await runIn(activityEnv(undefined, 2), runAgent, {
        executionId,
        agent,
        prompt: 'succeed 0 first start',
        timeoutSeconds: 60,
      });
      expect(summary).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect((await spawnCounts())[executionId]).toBe(1);
    });
  });

  it('stops the agent process when the activity is cancelled', async () => {
    const input = await runningExecution('cancel', 'hang');
    const env = activityEnv();
    const outcome = runIn(env, runAgent, input).then(
      () => undefined,
      (e: unknown) => e,
    );

    const running = await waitUntil(
      async () => {
        const exec = await agentClient.get(input.executionId);
        return exec?.status === 'running' && exec.pid !== undefined && exec;
      },
      { what: 'the agent to run the execution', timeoutMs: 15_000, intervalMs: 50 },
    );
    const pid = running.pid!;
    expect(probePid(pid)).toBe('alive');

    env.cancel();
    const err = await outcome;
    expect(err).toBeInstanceOf(CancelledFailure);

    // The activity waited for the stop, so the agent already reports the run ended.
    const after = await agentClient.get(input.executionId);
    expect(after?.status).not.toBe('running');
    await waitUntil(async () => probePid(pid) === 'ESRCH', { what: `process ${pid} to be gone`, timeoutMs: 10_000, intervalMs: 50 });
    expect((await spawnCounts())[input.executionId]).toBe(1);
  });

  it('heartbeats the agent state on every poll and renews the capacity lease', async () => {
    const input = await runningExecution('beats', 'succeed 3 beating');
    expect(await deps.slots.tryAcquire(agent, input.executionId, 5, 'skip')).toBe(true);
    const [leaseBefore] = (await deps.slots.leases(agent)).filter((l) => l.executionId === input.executionId);

    const env = activityEnv();
    const beats: RunHeartbeat[] = [];
    env.on('heartbeat', (d: RunHeartbeat) => beats.push(d));
    const summary = await runIn(env, runAgent, input);
    expect(summary.status).toBe('succeeded');

    // A 3 s run read with 1 s long polls (a third of the 3 s heartbeat timeout): a beat after the start and after each read.
    expect(beats.length).toBeGreaterThanOrEqual(3);
    for (const beat of beats) {
      expect(beat.started).toBe(true);
      expect(beat.pid).toEqual(expect.any(Number));
    }
    expect(beats.some((b) => b.agentStatus === 'running')).toBe(true);
    expect(beats.at(-1)!.agentStatus).toBe('succeeded');
    expect(beats.map((b) => b.polls)).toEqual([...beats.map((b) => b.polls)].sort((a, b) => a - b));
    expect(beats.at(-1)!.polls).toBeGreaterThan(0);

    // The activity does not wait for its renewals (a slow Redis must not delay a heartbeat): the last may land after it returned.
    await waitUntil(
      async () => (await deps.slots.leases(agent)).find((l) => l.executionId === input.executionId)!.expiresAt > leaseBefore!.expiresAt,
      { what: 'the capacity lease to be renewed', timeoutMs: 10_000, intervalMs: 50 },
    );
    await deps.slots.release(agent, input.executionId);
  });

  it('gives up with agent_unreachable after agentUnreachableSeconds', async () => {
    const settings = { ...testSettings, agentUnreachableSeconds: 1 };
    const quick = createRunActivities(buildLifelineDeps({ pool, redis, workflows, config: testDepsConfig(settings), log: silentLogger() }));
    const input = await runningExecution('unreachable', 'succeed 0 nobody home', unreachableAgent);
    const env = activityEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));

    const startedAt = Date.now();
    const err = await runIn(env, quick.runAgent, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - startedAt;

    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'agent_unreachable', nonRetryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    // Gives up at its own limit, not at the default's 20 s: a loaded machine has seconds of room.
    expect(elapsed).toBeLessThan(10_000);
    // The wait heartbeats, so it stays cancellable and a dead worker is still detected.
    expect(beats.length).toBeGreaterThan(0);
  });

  it('counts the unreachable time across attempts: a retry after a lost worker does not restart the clock', async () => {
    const settings = { ...testSettings, agentUnreachableSeconds: 30 };
    const quick = createRunActivities(buildLifelineDeps({ pool, redis, workflows, config: testDepsConfig(settings), log: silentLogger() }));
    const input = await runningExecution('unreachable-across', 'succeed 0 nobody home', unreachableAgent);
    // The previous attempt found the agent gone 60 s ago, then its worker died.
    const unreachableSince = Date.now() - 60_000;
    const env = activityEnv({ started: true, agentStatus: 'running', polls: 3, unreachableSince });
    const startedAt = Date.now();
    const err = await runIn(env, quick.runAgent, input).then(
      () => undefined,
      (e: unknown) => e,
    );
    const endedAt = Date.now();
    expect(err).toMatchObject({ type: 'agent_unreachable', nonRetryable: true });
    // Counted from the earlier attempt's time, however long this attempt took to get there; a
    // restarted clock would say about 30 s, and take that long.
    const counted = Number(/unreachable for (\d+) s, limit 30 s/.exec((err as Error).message)?.[1]);
    expect(counted).toBeGreaterThanOrEqual(Math.floor((startedAt - unreachableSince) / 1000));
    expect(counted).toBeLessThanOrEqual(Math.ceil((endedAt - unreachableSince) / 1000));
    expect(endedAt - startedAt).toBeLessThan(settings.agentUnreachableSeconds * 1000);
  });

  it('concludes without the output when the agent stays unreachable, and retries while it may come back', async () => {
    const { executionId } = await runningExecution('gone-output', 'succeed 0 output nobody can fetch', unreachableAgent);
    const { conclude } = createConclusionActivities(deps);
    const conclusion: ConcludeInput = {
      executionId,
      agent: unreachableAgent,
      outcome: { status: 'succeeded', exitCode: 0 },
      actor: 'workflow',
      storeOutput: true,
    };
    const firstTriedAt = (ms: number) =>
      new MockActivityEnvironment({ activityType: 'conclude', scheduledTimestampMs: ms }, { logger: new DefaultLogger('ERROR') });

    // Within agentUnreachableSeconds of the first try: this try fails, to be retried, and nothing is written.
    const early = await firstTriedAt(Date.now())
      .run(conclude, conclusion)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(early).toBeInstanceOf(AgentUnreachableError);
    expect((await deps.executions.get(executionId))?.status).toBe('running');

    // Past it: the terminal status is written, with a note where the output would be.
    const late = Date.now() - (testSettings.agentUnreachableSeconds + 1) * 1000;
    expect(await firstTriedAt(late).run(conclude, conclusion)).toEqual({ status: 'succeeded', applied: true });
    const row = await deps.executions.get(executionId);
    expect(row?.status).toBe('succeeded');
    expect(row?.output).toMatch(/^\[lifeline: output lost: the agent was unreachable for \d+ s/);
  });
});

describe('agent request timeout', () => {
  it('is a whole number of milliseconds for any heartbeat timeout (timers refuse fractions)', () => {
    expect(agentRequestTimeoutMs(10)).toBe(3333);
    expect(agentRequestTimeoutMs(3)).toBe(1000);
    expect(agentRequestTimeoutMs(300)).toBe(10_000);
  });
});
