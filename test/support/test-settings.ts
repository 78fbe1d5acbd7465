import { loadConfig, type ExecutionSettings, type ReconcilerSettings } from '../../src/config/config.js';
import type { DepsConfig } from '../../src/wiring/build-lifeline-deps.js';
import { reconcilerUnderTest } from '../../src/testing/lifeline-under-test.js';

/** Lifecycle settings scaled down so failure paths show within seconds. */
export const testSettings: ExecutionSettings = {
  defaultTimeoutSeconds: 60,
  heartbeatTimeoutSeconds: 3,
  queueTimeoutSeconds: 60,
  // Not shorter: on 2 busy cores (two test projects, each with its servers) the in-process agent
  // server was seen missing every 1 s request for 11 s in a row.
  agentUnreachableSeconds: 20,
  pollIntervalMs: 200,
  maxOutputBytes: 256 * 1024,
  stopWaitSeconds: 5,
};

/** No schedule (tests run cycles themselves) and no grace: a row is reconciled as soon as a test asks. */
export const testReconcilerSettings: ReconcilerSettings = reconcilerUnderTest;

/** What tests build their dependencies from: the test settings, or others for one case. */
export function testDepsConfig(execution: ExecutionSettings = testSettings, webhookUrl?: string): DepsConfig {
  return {
    execution,
    reconciler: testReconcilerSettings,
    webhookUrl,
    agentTokens: loadConfig({}).agentTokens,
    temporal: { taskQueue: 'lifeline-test' },
  };
}
