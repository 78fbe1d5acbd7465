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

/** The same settings as the environment a worker child process reads. */
export function settingsEnv(settings: ExecutionSettings = testSettings): Record<string, string> {
  return {
    LIFELINE_DEFAULT_TIMEOUT_SECONDS: String(settings.defaultTimeoutSeconds),
    LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: String(settings.heartbeatTimeoutSeconds),
    LIFELINE_QUEUE_TIMEOUT_SECONDS: String(settings.queueTimeoutSeconds),
    LIFELINE_AGENT_UNREACHABLE_SECONDS: String(settings.agentUnreachableSeconds),
    LIFELINE_POLL_INTERVAL_MS: String(settings.pollIntervalMs),
    LIFELINE_RUN_MAX_ATTEMPTS: String(settings.runMaxAttempts),
    LIFELINE_MAX_OUTPUT_BYTES: String(settings.maxOutputBytes),
    LIFELINE_STOP_WAIT_SECONDS: String(settings.stopWaitSeconds),
  };
}
