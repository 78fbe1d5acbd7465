import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionConflictError, ExecutionNotFoundError } from '../src/client/client-errors.js';
import { limits, type StartExecutionRequest } from '../src/contract/start-execution-schema.js';
import { executionWorkflowType } from '../src/contract/execution-contract.js';
import { auditSteps } from './support/execution-probes.js';
import { issueFields } from './support/input-issues.js';
import { firstReleaseInput } from './support/recorded-histories.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';

const freshId = (label: string) => `input-${label}-${randomBytes(4).toString('hex')}`;

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

    // The same id with another prompt is a caller's bug: refused by name, nothing started.
    const conflict = await h.client.startExecution({ ...request, prompt: 'succeed 1 something else' }).catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ExecutionConflictError);
    expect((conflict as Error).message).toBe(`execution ${executionId} already exists with another prompt; nothing was started`);
    expect((await h.agentStarts())[executionId]).toBe(1);
  });

  it('waiting for an unknown execution fails at once with ExecutionNotFoundError', async () => {
    const startedAt = Date.now();
    await expect(h.client.waitForExecution(`nobody-${randomBytes(4).toString('hex')}`, 60_000)).rejects.toBeInstanceOf(
      ExecutionNotFoundError,
    );
    // Well short of the 60 s it was given: it did not wait for the execution to appear.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
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

  it('an execution started by type name, as another language would, with the input the first release sent, ends succeeded', async () => {
    const executionId = freshId('first-release');
    const input = { ...firstReleaseInput(), agent: h.agent('demo') };
    // No Lifeline code on this side: the published type name, task queue and JSON input (contract/execution.schema.json).
    const handle = await h.temporal.workflow.start(executionWorkflowType, {
      workflowId: executionId,
      taskQueue: h.taskQueue,
      args: [input],
    });
    expect(await handle.result()).toMatchObject({ executionId, status: 'succeeded' });
    expect(await h.client.waitForExecution(executionId, 60_000)).toMatchObject({ status: 'succeeded', trigger: 'api' });
  });

  it('a start by type name that breaks the contract fails at once naming each field, and writes no row', async () => {
    const executionId = freshId('foreign-bad');
    const handle = await h.temporal.workflow.start(executionWorkflowType, {
      workflowId: executionId,
      taskQueue: h.taskQueue,
      args: [{ agent: h.agent('demo'), prompt: 'succeed 0', timeout: 5, busyPolicy: 'later' }],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: Error) => err,
    );
    const messages: string[] = [];
    for (let e: unknown = failure; e instanceof Error; e = e.cause) messages.push(e.message);
    expect(messages.join(' / ')).toContain("busyPolicy: must be 'skip' or 'queue'; timeout: unknown field (misspelt?)");
    expect(await h.client.getExecution(executionId)).toBeUndefined();
  });
});
