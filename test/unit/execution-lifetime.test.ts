import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { limits } from '../../src/contract/start-execution-schema.js';
import { executionWorkflowOptions } from '../../src/client/execution-workflow-options.js';
import { loadConfig } from '../../src/config/config.js';
import {
  executionLifetimeSeconds,
  lifetimeMarginSeconds,
  maxQueueTimeoutSeconds,
  maxStopWaitSeconds,
  maxTimeoutSeconds,
  shortStepSeconds,
  stopUntilGoneSeconds,
} from '../../src/domain/execution-lifetime.js';
import { infrastructureBoundSeconds } from '../../src/domain/failure-classes.js';
import type { ExecutionInput } from '../../src/contract/execution-contract.js';

const hour = 3600;
const day = 24 * hour;

describe("an execution's workflow execution timeout", () => {
  it('adds up admission, the queue wait, the run, the stops, the conclusion, the release and the margin', () => {
    // Three short steps of an hour and a minute each, one stop wait of an hour and 10 s, a day of stopping, a day of margin.
    const fixed = 3 * (hour + 60) + (hour + 10) + day + day;
    expect(executionLifetimeSeconds({ timeoutSeconds: 120, queueTimeoutSeconds: 60, busyPolicy: 'queue' })).toBe(120 + 60 + fixed);
    expect(fixed).toBe(3 * shortStepSeconds + maxStopWaitSeconds + 10 + stopUntilGoneSeconds + lifetimeMarginSeconds);
    expect(shortStepSeconds).toBe(infrastructureBoundSeconds + 60);
  });

  it('counts no queue wait for busy policy skip, and the largest allowed timeout for one the input leaves out', () => {
    const fixed = executionLifetimeSeconds({ timeoutSeconds: 1, queueTimeoutSeconds: 1, busyPolicy: 'queue' }) - 2;
    expect(executionLifetimeSeconds({ timeoutSeconds: 120, queueTimeoutSeconds: 600, busyPolicy: 'skip' })).toBe(fixed + 120);
    expect(executionLifetimeSeconds({ timeoutSeconds: 120, busyPolicy: 'queue' })).toBe(fixed + 120 + maxQueueTimeoutSeconds);
    expect(executionLifetimeSeconds({ busyPolicy: 'skip' })).toBe(fixed + maxTimeoutSeconds);
    expect(executionLifetimeSeconds({ busyPolicy: 'queue' })).toBe(fixed + maxTimeoutSeconds + maxQueueTimeoutSeconds);
  });

  it('always exceeds the longest life a run may have: its queue timeout, its deadline and a day of stopping an unconfirmed process', () => {
    for (const input of [
      { timeoutSeconds: 1, queueTimeoutSeconds: 1, busyPolicy: 'queue' as const },
      { timeoutSeconds: maxTimeoutSeconds, queueTimeoutSeconds: maxQueueTimeoutSeconds, busyPolicy: 'queue' as const },
      { timeoutSeconds: 900, busyPolicy: 'skip' as const },
    ]) {
      const queue = input.busyPolicy === 'skip' ? 0 : input.queueTimeoutSeconds!;
      expect(executionLifetimeSeconds(input)).toBeGreaterThan(queue + input.timeoutSeconds + stopUntilGoneSeconds + maxStopWaitSeconds);
    }
  });

  it('uses the same maxima as the client, the workers and the agents table', () => {
    expect(limits.timeoutSeconds.max).toBe(maxTimeoutSeconds);
    expect(limits.queueTimeoutSeconds.max).toBe(maxQueueTimeoutSeconds);
    // The workers' defaults for executions that set none can be no larger.
    expect(() => loadConfig({ LIFELINE_DEFAULT_TIMEOUT_SECONDS: String(maxTimeoutSeconds + 1) })).toThrow(/at most/);
    expect(() => loadConfig({ LIFELINE_QUEUE_TIMEOUT_SECONDS: String(maxQueueTimeoutSeconds + 1) })).toThrow(/at most/);
    expect(() => loadConfig({ LIFELINE_STOP_WAIT_SECONDS: String(maxStopWaitSeconds + 1) })).toThrow(/at most/);
    expect(loadConfig({ LIFELINE_STOP_WAIT_SECONDS: String(maxStopWaitSeconds) }).execution.stopWaitSeconds).toBe(maxStopWaitSeconds);
    // An agent's default timeout, which the client does not know at start.
    const migration = readFileSync(new URL('../../migrations/0001_executions.sql', import.meta.url), 'utf8');
    expect(migration).toContain(`default_timeout_seconds integer CHECK (default_timeout_seconds BETWEEN 1 AND ${maxTimeoutSeconds})`);
  });

  it('is set on every start, in milliseconds', () => {
    const input: ExecutionInput = { agent: 'demo', prompt: 'succeed', timeoutSeconds: 120, busyPolicy: 'skip', trigger: 'cli' };
    expect(executionWorkflowOptions(input, 'lifeline').workflowExecutionTimeout).toBe(executionLifetimeSeconds(input) * 1000);
  });
});
