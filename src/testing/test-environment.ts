import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureTemporalTestServer } from '../stack/temporal-test-server.js';
import { registerSearchAttributes } from '../temporal-prerequisites/register-search-attributes.js';
import { createLogger, type Logger } from '../util/logger.js';
import { resolveTestTemporal, type TestTemporal } from './test-temporal.js';

/**
 * A Temporal test environment ready for Lifeline's workflows: Temporal's time-skipping test server
 * (fetched once into ~/.cache/lifeline), with Lifeline's search attributes registered, so that a
 * workflow sleeping an hour completes in a moment. Time skips only while no activity runs: stub
 * activities that return (or fail) at once. Call `teardown()` when done.
 */
export async function createTimeSkippingEnvironment(opts: { log?: Logger } = {}): Promise<TestWorkflowEnvironment> {
  const path = await ensureTemporalTestServer(opts.log ?? createLogger('lifeline-testing'));
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  return withSearchAttributes(env);
}

/**
 * A test environment on a running Temporal server (the dev server of `npm start`, a CI service, a
 * secured cluster; from the environment when not given), with Lifeline's search attributes.
 */
export async function connectTestEnvironment(opts?: TestTemporal): Promise<TestWorkflowEnvironment> {
  const { address, namespace, ...connectionOptions } = resolveTestTemporal(opts);
  return withSearchAttributes(await TestWorkflowEnvironment.createFromExistingServer({ address, namespace, connectionOptions }));
}

async function withSearchAttributes(env: TestWorkflowEnvironment): Promise<TestWorkflowEnvironment> {
  try {
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}
