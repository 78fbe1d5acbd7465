import { inject } from 'vitest';
import { startLifelineUnderTest, type LifelineUnderTestOptions } from '../../src/testing/lifeline-under-test.js';
import { createLogger } from '../../src/util/logger.js';
import { testSettings } from './test-settings.js';
import { testTemporal } from './test-temporal.js';

export { uniqueSuffix, type AgentUnderTest as HarnessAgent } from '../../src/testing/lifeline-under-test.js';

export type HarnessOptions = Omit<LifelineUnderTestOptions, 'temporal' | 'databaseUrl' | 'redisUrl'> & {
  /** Servers of the test's own (to stop and restart them) instead of the shared ones. */
  databaseUrl?: string;
  redisUrl?: string;
};

/**
 * Lifeline for one test file (the testing kit's startLifelineUnderTest) against the stack the
 * global setup started, with the shared workflow bundle and settings scaled down so that failure
 * paths show within seconds. LIFELINE_TEST_LOGS=1 shows Lifeline's logs.
 */
export async function startHarness(opts: HarnessOptions) {
  return startLifelineUnderTest({
    ...opts,
    temporal: testTemporal(),
    databaseUrl: opts.databaseUrl ?? inject('databaseUrl'),
    redisUrl: opts.redisUrl ?? inject('redisUrl'),
    settings: { ...testSettings, ...opts.settings },
    workflowBundlePath: inject('workflowBundlePath'),
    log: process.env.LIFELINE_TEST_LOGS ? createLogger('test') : undefined,
  });
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
