import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentClient, type AgentClient } from '../src/agent/agent-client.js';
import { AgentProtocolError, AgentRejectedError, AgentUnreachableError } from '../src/agent/agent-errors.js';
import type { AgentExecution } from '../src/agent/protocol.js';
import { startAgentServer, type AgentServer } from '../src/agent-server/agent-server.js';
import { startAgentServerProcess } from '../tools/processes/agent-server-process.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';
import { processGroupMembers } from '../tools/processes/process-probe.js';
import { probePid } from './support/execution-probes.js';

const mebibyte = 1024 * 1024;
const demoCommand = [process.execPath, '--import', 'tsx', fileURLToPath(new URL('../src/agent-server/demo-command.ts', import.meta.url))];

let server: AgentServer;
let demo: AgentClient;
let capped: AgentClient;
let ids = 0;
const newId = () => `exec-${process.pid}-${++ids}`;

beforeAll(async () => {
  server = await startAgentServer(
    {
      agents: {
        demo: { token: 'demo-token', command: demoCommand, stopGraceMs: 500 },
        capped: { token: 'capped-token', command: demoCommand, maxOutputBytes: mebibyte },
      },
    },
    silentLogger(),
  );
  demo = createAgentClient({ baseUrl: server.baseUrlFor('demo'), token: 'demo-token' });
  capped = createAgentClient({ baseUrl: server.baseUrlFor('capped'), token: 'capped-token' });
});

afterAll(async () => {
  await server?.close();
});

function waitForEnd(client: AgentClient, id: string): Promise<AgentExecution> {
  return waitUntil(
    async () => {
      const execution = await client.get(id);
      return execution && execution.status !== 'running' ? execution : undefined;
    },
    { what: `execution ${id} to end`, timeoutMs: 15_000, intervalMs: 50 },
  );
}

/** Gone, or a zombie: an orphan is reaped by init in its own time, but it no longer runs. */
function processDead(pid: number): boolean {
  if (probePid(pid) === 'ESRCH') return true;
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/s, ' '));
  } catch {
    return probePid(pid) === 'ESRCH';
  }
}

async function spawnCounts(): Promise<Record<string, number>> {
  const res = await fetch(`${server.baseUrlFor('demo')}/_debug/starts`, { headers: { authorization: 'Bearer demo-token' } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, number>;
}

/** Waits until the command has printed, which the demo does only once its signal handling is in place. */
function waitForOutput(client: AgentClient, id: string): Promise<true> {
  return waitUntil(async () => ((await client.get(id))?.outputBytes ?? 0) > 0, {
    what: `execution ${id} to print`,
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

/** A throwaway HTTP server on loopback that answers every request with `handler`. */
async function fakeAgent(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const fake = createServer(handler);
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  return { url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, server: fake };
}

async function closeFake(fake: Server): Promise<void> {
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
}

describe('reference agent server', () => {
  it('ends a run whose prompt is too large for an argument as failed, saying how to pass it', async () => {
    const id = newId();
    const started = await demo.start({ id, prompt: `succeed 0 ${'x'.repeat(200 * 1024)}`, timeoutSeconds: 30 });
    expect(started).toMatchObject({ status: 'failed' });
    expect(started.error).toMatch(/too large for one argument \(at most 131072 bytes\): configure the agent with "promptVia": "stdin"/);
  });

  it('answers a long poll when the run ends, and says it supports the long poll', async () => {
    const id = newId();
    expect((await demo.start({ id, prompt: 'succeed 1 long poll', timeoutSeconds: 30 })).status).toBe('running');
    expect(demo.longPoll).toBe(true);
    const asked = Date.now();
    const answer = await demo.get(id, undefined, { waitSeconds: 40 });
    const answeredAt = Date.now();
    // Succeeded, so not answered before the run ended; well inside the 40 s asked for, so not at the
    // end of the wait. The run takes about a second plus its start-up, so a loaded machine has 20 s of room.
    expect(answer).toMatchObject({ status: 'succeeded' });
    expect(answeredAt - asked).toBeLessThan(20_000);
    expect(answeredAt).toBeGreaterThanOrEqual(Date.parse(answer!.finishedAt!));
    // An ended run answers at once; a wait beyond the limit is refused by name.
    expect((await demo.get(id, undefined, { waitSeconds: 20 }))?.status).toBe('succeeded');
    const res = await fetch(`${server.baseUrlFor('demo')}/executions/${id}?waitSeconds=61`, {
      headers: { authorization: 'Bearer demo-token' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('waitSeconds: must be a whole number from 0 to 60');
  });

  it('answers a long poll once the run reports a cost above costAboveUsd, and not before', async () => {
    const id = newId();
    await demo.start({ id, prompt: 'spend 2', timeoutSeconds: 60 });
    // The report comes once the command has started, which takes its own time on a loaded machine.
    await waitUntil(async () => (await demo.get(id))?.usage?.cost !== undefined, {
      what: `execution ${id} to report its cost`,
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    // Under the reported cost: the poll runs its whole wait and finds the run still going.
    const asked = Date.now();
    const under = await demo.get(id, undefined, { waitSeconds: 2, costAboveUsd: 5 });
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1900);
    expect(under).toMatchObject({ status: 'running', usage: { cost: { currency: 'USD' } } });
    // Over it: answered at once, while the run still runs, with the report that crossed it.
    const over = await demo.get(id, undefined, { waitSeconds: 20, costAboveUsd: 1 });
    expect(over?.status).toBe('running');
    expect(over!.usage!.cost!.amount).toBeGreaterThan(1);
    const res = await fetch(`${server.baseUrlFor('demo')}/executions/${id}?waitSeconds=1&costAboveUsd=lots`, {
      headers: { authorization: 'Bearer demo-token' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('costAboveUsd: must be a number of USD');
    await demo.stop(id);
  });

  it('starts an execution once per id and reports its output when it succeeds', async () => {
    const id = newId();
    const req = { id, prompt: 'succeed 0 hello from the demo agent', timeoutSeconds: 30 };
    const [first, second] = await Promise.all([demo.start(req), demo.start(req)]);
    expect(first.status).toBe('running');
    expect(second.pid).toBe(first.pid);
    expect(first.output).toBeUndefined();

    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({ id, status: 'succeeded', exitCode: 0, pid: first.pid });
    expect(done.output).toContain('hello from the demo agent');
    expect(done.finishedAt).toBeDefined();

    const again = await demo.start(req);
    expect(again.status).toBe('succeeded');
    expect((await spawnCounts())[id]).toBe(1);
  });

  it('reports a non-zero exit as failed with the exit code', async () => {
    const id = newId();
    await demo.start({ id, prompt: 'fail 3', timeoutSeconds: 30 });
    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 3, error: 'exited with code 3' });
    expect(done.output).toContain('failing with exit code 3');
  });

  it('reports a process killed by a signal as failed', async () => {
    const id = newId();
    await demo.start({ id, prompt: 'crash', timeoutSeconds: 30 });
    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({ status: 'failed', exitCode: null, error: 'killed by SIGKILL' });
  });

  it('stops a run itself a few seconds past the timeout it was sent, so a run cut off from Lifeline still ends', async () => {
    const id = newId();
    const started = await demo.start({ id, prompt: 'hang', timeoutSeconds: 1 });
    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({ status: 'cancelled', error: 'stopped on its timeout of 1 s (exited with code 143)' });
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt)).toBeGreaterThanOrEqual(1000);
    expect(probePid(started.pid!)).toBe('ESRCH');
  });

  it('stops a running execution with SIGTERM and reports it cancelled', async () => {
    const id = newId();
    const started = await demo.start({ id, prompt: 'hang', timeoutSeconds: 30 });
    await waitForOutput(demo, id);
    expect((await demo.listRunning()).map((e) => e.id)).toContain(id);

    const stopping = await demo.stop(id);
    expect(stopping?.id).toBe(id);
    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({ status: 'cancelled', exitCode: 143 });
    expect(probePid(started.pid!)).toBe('ESRCH');
    expect((await demo.listRunning()).map((e) => e.id)).not.toContain(id);
    expect((await demo.stop(id))?.status).toBe('cancelled');
  });

  it('kills the process group after the grace period when SIGTERM is ignored', async () => {
    const id = newId();
    const started = await demo.start({ id, prompt: 'ignore-term', timeoutSeconds: 30 });
    await waitForOutput(demo, id);
    await demo.stop(id);
    const done = await waitForEnd(demo, id);
    expect(done).toMatchObject({
      status: 'cancelled',
      exitCode: null,
      error: 'stopped on request (killed by SIGKILL)',
    });
    expect(done.output).toContain('ignoring SIGTERM');
    expect(probePid(started.pid!)).toBe('ESRCH');
  });

  it('keeps at most maxOutputBytes of output but counts all of it', async () => {
    const id = newId();
    await capped.start({ id, prompt: 'big-output 5', timeoutSeconds: 30 });
    const done = await waitForEnd(capped, id);
    expect(done.status).toBe('succeeded');
    expect(Buffer.byteLength(done.output ?? '')).toBeLessThanOrEqual(mebibyte);
    expect(Buffer.byteLength(done.output ?? '')).toBeGreaterThan(0);
    expect(done.outputBytes).toBeGreaterThanOrEqual(5 * mebibyte);
  });

  it('answers 404 for executions it does not know, and keeps agents apart', async () => {
    expect(await demo.get('never-started')).toBeUndefined();
    expect(await demo.stop('never-started')).toBeUndefined();
    const id = newId();
    await demo.start({ id, prompt: 'succeed', timeoutSeconds: 30 });
    expect(await capped.get(id)).toBeUndefined();
    await waitForEnd(demo, id);
  });

  it('rejects a second start of an id with a different prompt', async () => {
    const id = newId();
    await demo.start({ id, prompt: 'succeed 0 one', timeoutSeconds: 30 });
    const err = await demo.start({ id, prompt: 'succeed 0 two', timeoutSeconds: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRejectedError);
    expect((err as AgentRejectedError).status).toBe(409);
    await waitForEnd(demo, id);
    expect((await spawnCounts())[id]).toBe(1);
  });

  it('rejects an invalid start request naming the field', async () => {
    const err = await demo.start({ id: newId(), prompt: '', timeoutSeconds: 30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRejectedError);
    expect((err as AgentRejectedError).status).toBe(400);
    expect((err as Error).message).toMatch(/prompt/);
  });

  it("lists an agent's execution ids it started only to a caller with that agent's token, and no other agent's", async () => {
    const id = newId();
    await demo.start({ id, prompt: 'succeed 0 counted', timeoutSeconds: 30 });
    await waitForEnd(demo, id);
    const cappedId = newId();
    await capped.start({ id: cappedId, prompt: 'succeed 0 counted apart', timeoutSeconds: 30 });
    await waitForEnd(capped, cappedId);
    const starts = `${server.baseUrlFor('demo')}/_debug/starts`;
    expect((await fetch(starts)).status).toBe(401);
    expect((await fetch(starts, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    // Another agent's token opens only that agent's list.
    expect((await fetch(starts, { headers: { authorization: 'Bearer capped-token' } })).status).toBe(401);
    const cappedStarts = await fetch(`${server.baseUrlFor('capped')}/_debug/starts`, { headers: { authorization: 'Bearer capped-token' } });
    expect(cappedStarts.status).toBe(200);
    // A refusal's body has no spawn counts either: only the capped run's own entry shows that this is the list.
    const cappedCounts = (await cappedStarts.json()) as Record<string, number>;
    expect(cappedCounts[cappedId]).toBe(1);
    expect(cappedCounts).not.toHaveProperty(id);
    expect((await spawnCounts())[id]).toBe(1);
    expect(await spawnCounts()).not.toHaveProperty(cappedId);
    expect((await fetch(`${server.url}/_debug/starts`, { headers: { authorization: 'Bearer demo-token' } })).status).toBe(404);
  });

  it('answers an unknown agent as it answers a wrong token: agent names cannot be found by trying', async () => {
    for (const path of ['healthz', 'executions', 'executions/x']) {
      const unknown = await fetch(`${server.url}/agents/no-such-agent/${path}`, { headers: { authorization: 'Bearer demo-token' } });
      const wrongToken = await fetch(`${server.baseUrlFor('demo')}/${path}`, { headers: { authorization: 'Bearer wrong' } });
      expect([unknown.status, wrongToken.status]).toEqual([401, 401]);
    }
  });

  it('reports health', async () => {
    expect(await demo.health()).toBe(true);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('kills what the command leaves behind in its process group when it exits', async () => {
    // The prompt lands in $0 of the script; the script backgrounds a sleeper and exits at once.
    const own = await startAgentServer(
      { agents: { shell: { token: 't', command: ['/bin/sh', '-c', 'sleep 30 & echo $!'] } } },
      silentLogger(),
    );
    try {
      const client = createAgentClient({ baseUrl: own.baseUrlFor('shell'), token: 't' });
      const id = newId();
      await client.start({ id, prompt: 'leaky', timeoutSeconds: 30 });
      const done = await waitForEnd(client, id);
      expect(done.status).toBe('succeeded');
      const sleeperPid = Number(done.output?.trim());
      expect(sleeperPid).toBeGreaterThan(0);
      await waitUntil(async () => processDead(sleeperPid), {
        what: `the left-behind sleeper ${sleeperPid} to be gone`,
        timeoutMs: 5_000,
        intervalMs: 20,
      });
    } finally {
      await own.close();
    }
  });

  it('never lets a prompt be read as an option of the command: it comes after `--`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-prompt-option-'));
    const repo = join(dir, 'repo');
    const clobbered = join(dir, 'clobbered.txt');
    const own = await startAgentServer(
      {
        // As this test's own user, who may write in `dir`: only the `--` may stop the file being written.
        runAgentsAs: userInfo().username,
        agents: {
          // An agent command that takes options: a prompt of `--output=<file>` would make git write that file.
          git: {
            token: 't',
            command: [
              'sh',
              '-c',
              `git init -q "$0" && git -C "$0" -c user.email=l@l -c user.name=l commit -q --allow-empty -m one && exec git -C "$0" log -1 "$@"`,
              repo,
            ],
          },
        },
      },
      silentLogger(),
    );
    try {
      const client = createAgentClient({ baseUrl: own.baseUrlFor('git'), token: 't' });
      const id = newId();
      await client.start({ id, prompt: `--output=${clobbered}`, timeoutSeconds: 30 });
      // git reads it as a path (one that matches nothing): the log runs, and writes no file.
      expect(await waitForEnd(client, id)).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(() => readFileSync(clobbered)).toThrow(/ENOENT/);
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps at most maxConcurrentRuns running, answering 429 beyond them (retried by Lifeline)', async () => {
    const own = await startAgentServer(
      { agents: { tight: { token: 't', command: demoCommand, maxConcurrentRuns: 2, stopGraceMs: 300 } } },
      silentLogger(),
    );
    try {
      const client = createAgentClient({ baseUrl: own.baseUrlFor('tight'), token: 't' });
      const [a, b, c] = [newId(), newId(), newId()];
      await client.start({ id: a, prompt: 'hang', timeoutSeconds: 30 });
      await client.start({ id: b, prompt: 'hang', timeoutSeconds: 30 });
      const busy = await client.start({ id: c, prompt: 'hang', timeoutSeconds: 30 }).catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(AgentUnreachableError);
      expect(busy).toMatchObject({ status: 429 });
      expect((busy as Error).message).toMatch(/maxConcurrentRuns/);
      await client.stop(a);
      await waitForEnd(client, a);
      expect((await client.start({ id: c, prompt: 'hang', timeoutSeconds: 30 })).status).toBe('running');
    } finally {
      await own.close();
    }
  });

  it('forgets the oldest finished runs past keepFinishedRuns or maxKeptOutputBytes, and never runs a forgotten id again', async () => {
    const own = await startAgentServer(
      { agents: { small: { token: 't', command: demoCommand, keepFinishedRuns: 2, maxKeptOutputBytes: 3 * mebibyte } } },
      silentLogger(),
    );
    try {
      const client = createAgentClient({ baseUrl: own.baseUrlFor('small'), token: 't' });
      const finished = async (prompt: string) => {
        const id = newId();
        await client.start({ id, prompt, timeoutSeconds: 30 });
        await waitForEnd(client, id);
        return id;
      };
      const [first, second, third] = [await finished('succeed 0 one'), await finished('succeed 0 two'), await finished('succeed 0 three')];
      expect(await client.get(first)).toBeUndefined();
      expect((await client.get(second))?.status).toBe('succeeded');
      expect((await client.get(third))?.status).toBe('succeeded');
      // A start of a forgotten id is refused: its process never starts twice.
      const again = await client.start({ id: first, prompt: 'succeed 0 one', timeoutSeconds: 30 }).catch((e: unknown) => e);
      expect(again).toMatchObject({ status: 409 });
      expect((again as Error).message).toMatch(/already ran here/);
      // Two runs of 2 MB each are more output than 3 MiB: the older goes.
      const big = await finished('big-output 2');
      const bigger = await finished('big-output 2');
      expect(await client.get(big)).toBeUndefined();
      expect((await client.get(bigger))?.output?.length).toBeGreaterThanOrEqual(2_000_000);
    } finally {
      await own.close();
    }
  });

  it('reports a command that cannot be started as failed', async () => {
    const own = await startAgentServer({ agents: { broken: { token: 't', command: ['/nonexistent/agent-cli'] } } }, silentLogger());
    try {
      const client = createAgentClient({ baseUrl: own.baseUrlFor('broken'), token: 't' });
      const id = newId();
      await client.start({ id, prompt: 'anything', timeoutSeconds: 30 });
      const done = await waitForEnd(client, id);
      expect(done.status).toBe('failed');
      expect(done.error).toContain('ENOENT');
    } finally {
      await own.close();
    }
  });

  it('stops every running child on close', async () => {
    const own = await startAgentServer({ agents: { demo: { token: 't', command: demoCommand, stopGraceMs: 300 } } }, silentLogger());
    const client = createAgentClient({ baseUrl: own.baseUrlFor('demo'), token: 't' });
    const hang = await client.start({ id: newId(), prompt: 'hang', timeoutSeconds: 30 });
    const stubborn = await client.start({ id: newId(), prompt: 'ignore-term', timeoutSeconds: 30 });
    await Promise.all([waitForOutput(client, hang.id), waitForOutput(client, stubborn.id)]);
    await own.close();
    expect(probePid(hang.pid!)).toBe('ESRCH');
    expect(probePid(stubborn.pid!)).toBe('ESRCH');
    expect(await client.health()).toBe(false);
  });
});

describe('agent client errors', () => {
  it('throws AgentRejectedError on a bad token', async () => {
    const client = createAgentClient({ baseUrl: server.baseUrlFor('demo'), token: 'capped-token' });
    const err = await client.get('anything').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRejectedError);
    expect((err as AgentRejectedError).status).toBe(401);
    expect((err as AgentRejectedError).retryable).toBe(false);
    expect((err as Error).message).toContain(`${server.baseUrlFor('demo')}: GET /executions/anything`);
  });

  it('throws AgentProtocolError on a malformed response', async () => {
    const fake = await fakeAgent((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    try {
      const client = createAgentClient({ baseUrl: fake.url, token: 't' });
      const err = await client.get('x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentProtocolError);
      expect((err as AgentProtocolError).retryable).toBe(false);
      expect((err as Error).message).toContain(`${fake.url}: GET /executions/x`);
      await expect(client.listRunning()).rejects.toBeInstanceOf(AgentProtocolError);
    } finally {
      await closeFake(fake.server);
    }
  });

  it('throws AgentUnreachableError when nothing listens', async () => {
    const fake = await fakeAgent(() => {});
    await closeFake(fake.server);
    const client = createAgentClient({ baseUrl: fake.url, token: 't' });
    const err = await client.start({ id: 'x', prompt: 'p', timeoutSeconds: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
    expect((err as AgentUnreachableError).retryable).toBe(true);
    expect((err as Error).message).toContain(`${fake.url}: POST /executions`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect(await client.health()).toBe(false);
  });

  it('throws AgentUnreachableError on a 5xx and on a timeout, but rethrows a caller abort', async () => {
    const fake = await fakeAgent((req, res) => {
      if (req.url?.includes('boom')) {
        res.writeHead(503);
        res.end('overloaded');
      }
    });
    try {
      // The 503 gets the default timeout: under load, 200 ms could pass before even an immediate answer is read.
      const boom = await createAgentClient({ baseUrl: fake.url, token: 't' })
        .get('boom')
        .catch((e: unknown) => e);
      expect(boom).toBeInstanceOf(AgentUnreachableError);
      expect((boom as AgentUnreachableError).status).toBe(503);

      // Nothing ever answers `slow`, so any timeout fires, however loaded the machine.
      const client = createAgentClient({ baseUrl: fake.url, token: 't', requestTimeoutMs: 200 });
      const slow = await client.get('slow').catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(AgentUnreachableError);
      expect((slow as Error).message).toContain('no response within 200 ms');

      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const pending = createAgentClient({ baseUrl: fake.url, token: 't' }).get('slow', controller.signal);
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    } finally {
      await closeFake(fake.server);
    }
  });
});

describe('agent server CLI', () => {
  it('prints its URL once listening and on SIGTERM stops its executions and exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-agent-server-'));
    const configPath = join(dir, 'agents.json');
    writeFileSync(configPath, JSON.stringify({ agents: { demo: { token: 't', command: demoCommand, stopGraceMs: 300 } } }));
    const server = await startAgentServerProcess({ configPath, env: { ...process.env, LIFELINE_LOG_LEVEL: 'warn' } });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = createAgentClient({ baseUrl: `${server.url}/agents/demo`, token: 't' });
      const stubborn = await client.start({ id: newId(), prompt: 'ignore-term', timeoutSeconds: 30 });
      await waitForOutput(client, stubborn.id);

      await server.stop(15_000);
      expect(server.child.exitCode).toBe(0);
      expect(probePid(stubborn.pid!)).toBe('ESRCH');
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes every process of its runs with it when it is SIGKILLed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-agent-server-'));
    const configPath = join(dir, 'agents.json');
    // A command that leaves a grandchild behind, as coding agents do (a language server, a build).
    const shell = ['/bin/sh', '-c', 'sleep 300 & sleep 300'];
    writeFileSync(
      configPath,
      JSON.stringify({ agents: { demo: { token: 't', command: demoCommand }, shell: { token: 't', command: shell } } }),
    );
    const server = await startAgentServerProcess({ configPath, env: { ...process.env, LIFELINE_LOG_LEVEL: 'warn' } });
    try {
      const started = await Promise.all(
        (['demo', 'shell'] as const).map((agent) =>
          createAgentClient({ baseUrl: `${server.url}/agents/${agent}`, token: 't' }).start({
            id: newId(),
            prompt: 'hang',
            timeoutSeconds: 60,
          }),
        ),
      );
      const groups = started.map((run) => run.pid!);
      // The demo run is one process; the shell's group holds its left-behind sleeper too.
      const [demoGroup, shellGroup] = groups as [number, number];
      await waitUntil(async () => processGroupMembers(demoGroup).length >= 1 && processGroupMembers(shellGroup).length >= 2, {
        what: 'both runs to be running, the shell with its sleeper',
        timeoutMs: 10_000,
        intervalMs: 50,
      });

      await server.kill('SIGKILL');
      await waitUntil(async () => groups.every((group) => processGroupMembers(group).length === 0), {
        what: `no process left in the runs' groups ${groups.join(', ')}`,
        timeoutMs: 10_000,
        intervalMs: 50,
      });
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
