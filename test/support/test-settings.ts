import type { ExecutionSettings } from '../../src/config/config.js';

/** Lifecycle settings scaled down so failure paths show within seconds. */
export const testSettings: ExecutionSettings = {
  defaultTimeoutSeconds: 60,
  heartbeatTimeoutSeconds: 3,
  queueTimeoutSeconds: 60,
  agentUnreachableSeconds: 3,
  pollIntervalMs: 200,
  runMaxAttempts: 5,
  maxOutputBytes: 256 * 1024,
  stopWaitSeconds: 5,
};
