import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionNotFoundError, InvalidExecutionInputError } from '../src/client/client-errors.js';
import { limits, parseStartRequest, type StartExecutionRequest } from '../src/client/execution-input.js';
import { auditSteps } from './support/execution-probes.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const freshId = (label: string) => `input-${label}-${randomBytes(4).toString('hex')}`;

/** The error a call threw, or a marker when it did not throw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return 'did not throw';
  } catch (err) {
    return err;
  }
}

function issueFields(err: unknown): string[] {
  expect(err).toBeInstanceOf(InvalidExecutionInputError);
  return (err as InvalidExecutionInputError).issues.map((i) => i.field);
}

describe('parseStartRequest', () => {
  const valid = { agent: 'demo', prompt: 'succeed' };

  it('fills in the defaults and generates a readable, unique execution id', () => {
    const a = parseStartRequest(valid);
    const b = parseStartRequest(valid);
    expect(a.input).toMatchObject({ agent: 'demo', prompt: 'succeed', busyPolicy: 'queue', trigger: 'api' });
    expect(a.input.timeoutSeconds).toBeUndefined();
    expect(a.executionId).toMatch(/^demo-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect(b.executionId).not.toBe(a.executionId);
  });

  it('keeps a given execution id and the optional fields', () => {
    const parsed = parseStartRequest({
      ...valid,
      executionId: 'nightly:2024-01-01@run.1',
      timeoutSeconds: 30,
      busyPolicy: 'skip',
      queueTimeoutSeconds: 5,
      trigger: 'schedule',
      scheduleId: 'nightly',
      metadata: { team: 'x' },
    });
    expect(parsed.executionId).toBe('nightly:2024-01-01@run.1');
    expect(parsed.input).toEqual({
      agent: 'demo',
      prompt: 'succeed',
      timeoutSeconds: 30,
      busyPolicy: 'skip',
      queueTimeoutSeconds: 5,
      trigger: 'schedule',
      scheduleId: 'nightly',
      metadata: { team: 'x' },
    });
  });

  it('names every invalid field in one error', () => {
    const err = thrownBy(() =>
      parseStartRequest({ agent: 'Not An Agent', prompt: '   ', timeoutSeconds: 0, busyPolicy: 'later', executionId: '-x' }),
    );
    expect(issueFields(err).sort()).toEqual(['agent', 'busyPolicy', 'executionId', 'prompt', 'timeoutSeconds']);
    expect((err as Error).message).toMatch(/^invalid execution input: /);
  });

  it('refuses misspelt fields by name instead of running on defaults', () => {
    const err = thrownBy(() => parseStartRequest({ agent: 'demo', prompt: 'hi', agnt: 'demo', timeout: 60 }));
    expect(err).toBeInstanceOf(InvalidExecutionInputError);
    expect(issueFields(err).sort()).toEqual(['agnt', 'timeout']);
    expect((err as Error).message).toContain('unknown field (misspelt?)');
  });

  it('bounds the prompt in UTF-8 bytes, not characters', () => {
    expect(parseStartRequest({ ...valid, prompt: 'a'.repeat(limits.promptBytes) }).input.prompt).toHaveLength(limits.promptBytes);
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, prompt: 'a'.repeat(limits.promptBytes + 1) })))).toEqual(['prompt']);
    // Two bytes each: within the limit in characters, over it in bytes.
    const accents = 'é'.repeat(limits.promptBytes / 2 + 1);
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, prompt: accents })))).toEqual(['prompt']);
  });

  it('accepts whole timeouts within the limits only', () => {
    const { min, max } = limits.timeoutSeconds;
    expect(parseStartRequest({ ...valid, timeoutSeconds: min }).input.timeoutSeconds).toBe(min);
    expect(parseStartRequest({ ...valid, timeoutSeconds: max }).input.timeoutSeconds).toBe(max);
    for (const timeoutSeconds of [min - 1, max + 1, 1.5, Number.NaN, '30']) {
      expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, timeoutSeconds })))).toEqual(['timeoutSeconds']);
    }
    for (const queueTimeoutSeconds of [0, 2.5]) {
      expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, queueTimeoutSeconds })))).toEqual(['queueTimeoutSeconds']);
    }
  });

  it('refuses oversized metadata, missing fields and input that is not an object', () => {
    const metadata = { blob: 'x'.repeat(limits.metadataBytes) };
    expect(issueFields(thrownBy(() => parseStartRequest({ ...valid, metadata })))).toEqual(['metadata']);
    expect(issueFields(thrownBy(() => parseStartRequest({}))).sort()).toEqual(['agent', 'prompt']);
    expect(issueFields(thrownBy(() => parseStartRequest('run demo')))).toEqual(['(input)']);
  });
});

describe('starting executions through the Lifeline client', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ agents: { demo: { capacity: 2 } } });
  });
  afterAll(async () => h?.close());

  async function rowsForAgent(agent: string): Promise<number> {
    const { rows } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM executions WHERE agent = $1', [agent]);
    return rows[0]!.n;
  }

  it('starting the same execution id twice runs it once and returns the same id', async () => {
    const executionId = freshId('twice');
    const request = { executionId, agent: h.agent('demo'), prompt: 'succeed 1 only once' };
    // Both while the first is still running, then once more after it finished.
    const [first, second] = await Promise.all([h.client.startExecution(request), h.client.startExecution(request)]);
    const row = await h.client.waitForExecution(executionId, 60_000);
    const handle = h.temporal.workflow.getHandle(executionId);
    await handle.result();
    const { runId } = await handle.describe();
    const third = await h.client.startExecution(request);

    expect([first.executionId, second.executionId, third.executionId]).toEqual([executionId, executionId, executionId]);
    expect(row.status).toBe('succeeded');
    expect((await h.agentStarts())[executionId]).toBe(1);
    const { rows } = await h.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM executions WHERE id = $1', [executionId]);
    expect(rows[0]!.n).toBe(1);
    expect(await auditSteps(h, executionId)).toEqual(['->queued', 'queued>running', 'running>succeeded']);
    expect((await h.executions.get(executionId))?.finishedAt).toEqual(row.finishedAt);
    // The latest run is still the one that completed: the start after it did not begin another.
    expect(await handle.describe()).toMatchObject({ runId, status: { name: 'COMPLETED' } });
  });

  it('waiting for an unknown execution fails at once with ExecutionNotFoundError', async () => {
    const startedAt = Date.now();
    await expect(h.client.waitForExecution(`nobody-${randomBytes(4).toString('hex')}`, 60_000)).rejects.toBeInstanceOf(
      ExecutionNotFoundError,
    );
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('refuses each invalid field with an error naming it, and writes nothing', async () => {
    const agent = h.agent('demo');
    const cases: { field: string; request: Record<string, unknown> }[] = [
      { field: 'agent', request: { agent: 'no-such-agent', prompt: 'succeed' } },
      { field: 'agent', request: { agent: 'Not A Name', prompt: 'succeed' } },
      { field: 'prompt', request: { agent, prompt: '' } },
      { field: 'prompt', request: { agent, prompt: 'a'.repeat(limits.promptBytes + 1) } },
      { field: 'timeoutSeconds', request: { agent, prompt: 'succeed', timeoutSeconds: 0 } },
      { field: 'timeoutSeconds', request: { agent, prompt: 'succeed', timeoutSeconds: limits.timeoutSeconds.max + 1 } },
      { field: 'timeoutSeconds', request: { agent, prompt: 'succeed', timeoutSeconds: 2.5 } },
      { field: 'busyPolicy', request: { agent, prompt: 'succeed', busyPolicy: 'whenever' } },
      { field: 'queueTimeoutSeconds', request: { agent, prompt: 'succeed', queueTimeoutSeconds: 0 } },
    ];
    const before = await rowsForAgent(agent);
    for (const { field, request } of cases) {
      const executionId = freshId(field);
      const err = await h.client.startExecution({ ...request, executionId } as StartExecutionRequest).then(
        () => 'did not throw',
        (e: unknown) => e,
      );
      expect(issueFields(err), `${field}: ${String(err)}`).toEqual([field]);
      expect(await h.executions.get(executionId)).toBeUndefined();
      await expect(h.temporal.workflow.getHandle(executionId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    }

    for (const executionId of ['', '-leading-dash', 'has space', 'x'.repeat(201)]) {
      const err = await h.client.startExecution({ executionId, agent, prompt: 'succeed' }).then(
        () => 'did not throw',
        (e: unknown) => e,
      );
      expect(issueFields(err), `executionId ${JSON.stringify(executionId)}`).toEqual(['executionId']);
    }
    expect(await rowsForAgent(agent)).toBe(before);
    expect(await rowsForAgent('no-such-agent')).toBe(0);
  });
});
