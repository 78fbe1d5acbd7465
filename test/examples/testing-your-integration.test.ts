import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startLifelineUnderTest, waitForRowStatus, type LifelineUnderTest } from 'lifeline/testing';

let lifeline: LifelineUnderTest;

beforeAll(async () => {
  lifeline = await startLifelineUnderTest({
    temporal: { address: inject('temporalAddress'), namespace: inject('namespace') },
    databaseUrl: inject('databaseUrl'),
    redisUrl: inject('redisUrl'),
    agents: { coder: { capacity: 2 } },
  });
});

afterAll(() => lifeline?.close());

it('runs an execution started through LifelineClient to a succeeded row', async () => {
  const { executionId } = await lifeline.client.startExecution({ agent: lifeline.agent('coder'), prompt: 'succeed 1 hello' });
  const row = await waitForRowStatus(lifeline.executions, executionId, 'succeeded');
  expect(row.output).toContain('hello');
  expect(row.startedAt).toBeInstanceOf(Date);
});
