import type { ExecutionSettings } from '../../src/config/config.js';

/** The workers' settings: short heartbeats and polls, so that a dead worker or a lost agent is noticed within seconds. */
export const chaosSettings: ExecutionSettings = {
  defaultTimeoutSeconds: 60,
  heartbeatTimeoutSeconds: 3,
  queueTimeoutSeconds: 60,
  // Longer than an agent server restart (its stop waits up to the demo's 2 s stop grace).
  agentUnreachableSeconds: 30,
  pollIntervalMs: 500,
  maxOutputBytes: 256 * 1024,
  stopWaitSeconds: 5,
};

/** Frequent reconcile cycles: terminated workflows are finalized only by the reconciler. */
export const reconcileIntervalSeconds = 5;
