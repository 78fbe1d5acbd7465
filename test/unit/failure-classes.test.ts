import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AgentProtocolError, AgentRejectedError, AgentUnreachableError } from '../../src/agent/agent-errors.js';
import { AgentTokenError } from '../../src/agent/token-resolution.js';
import { classifyFailure, permanentFailureTypes } from '../../src/domain/failure-classes.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('the one table of what a step retries', () => {
  it('retries what comes back: Postgres, Redis and agents down or restarting', () => {
    for (const err of [
      withCode('the database system is shutting down', '57P01'),
      withCode('connection failure', '08006'),
      withCode('could not serialize access', '40001'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new Error('Connection terminated unexpectedly'),
      new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.'),
      new AgentUnreachableError('agent x: GET /executions/y failed: HTTP 503'),
    ]) {
      expect(classifyFailure(err), err.message).toBe('infrastructure');
    }
  });

  it('never retries what cannot change: refused data, a refusing or broken agent, a classified failure', () => {
    expect(classifyFailure(withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'))).toBe('invalid_input');
    expect(classifyFailure(new AgentRejectedError('rejected with HTTP 401', 401, 'bad token'))).toBe('agent_rejected');
    expect(classifyFailure(new AgentProtocolError('response is not JSON'))).toBe('agent_protocol_error');
    expect(classifyFailure(new AgentTokenError('coder', { source: 'env', ref: 'CODER_TOKEN' }, 'is not set'))).toBe('agent_misconfigured');
    expect(classifyFailure(ApplicationFailure.create({ type: 'agent_lost_execution', message: 'gone' }))).toBe('agent_lost_execution');
  });

  it('gives anything unrecognised a few attempts, not forever', () => {
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('unexpected');
    expect(classifyFailure('a string thrown')).toBe('unexpected');
  });

  it('derives the non-retryable failure types from the same table', () => {
    expect([...permanentFailureTypes].sort()).toEqual(
      [
        'agent_lost_execution',
        'agent_misconfigured',
        'agent_protocol_error',
        'agent_rejected',
        'agent_stalled',
        'agent_unreachable',
        'budget_exceeded',
        'closed_outside_workflow',
        'invalid_input',
        'tenant_over_budget',
      ].sort(),
    );
  });
});
