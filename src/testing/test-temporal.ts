import { temporalConnectOptions, type TemporalConnectOptions } from '../temporal-connection/connection-options.js';
import { loadTemporalSettings } from '../temporal-connection/connection-settings.js';

/** A Temporal server to test against: its address and namespace, with TLS, an API key or headers when it needs them. */
export type TestTemporal = TemporalConnectOptions & { namespace?: string };

/**
 * The server given, else the one the environment names the way Lifeline and the Temporal CLI read
 * it (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY, TEMPORAL_PROFILE and temporal.toml).
 */
export function resolveTestTemporal(
  given: TestTemporal | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Required<Pick<TestTemporal, 'namespace'>> & TemporalConnectOptions {
  if (given) return { ...given, namespace: given.namespace ?? 'default' };
  const settings = loadTemporalSettings(env);
  return { ...temporalConnectOptions(settings), namespace: settings.namespace };
}
