import type { ExecutionSettings } from '../../src/config/config.js';

/** Execution settings as the environment variables a worker process reads them from (see config.ts). */
export function executionSettingsEnv(settings: ExecutionSettings): Record<string, string> {
  return {
    LIFELINE_DEFAULT_TIMEOUT_SECONDS: String(settings.defaultTimeoutSeconds),
    LIFELINE_HEARTBEAT_TIMEOUT_SECONDS: String(settings.heartbeatTimeoutSeconds),
    LIFELINE_QUEUE_TIMEOUT_SECONDS: String(settings.queueTimeoutSeconds),
    LIFELINE_AGENT_UNREACHABLE_SECONDS: String(settings.agentUnreachableSeconds),
    LIFELINE_POLL_INTERVAL_MS: String(settings.pollIntervalMs),
    LIFELINE_MAX_OUTPUT_BYTES: String(settings.maxOutputBytes),
    LIFELINE_STOP_WAIT_SECONDS: String(settings.stopWaitSeconds),
  };
}
