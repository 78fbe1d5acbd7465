import { inject } from 'vitest';
import { resolveTestTemporal } from '../../src/testing/test-temporal.js';

/**
 * The Temporal of the project running the test, as connection options: the dev server, or the real
 * server with mutual TLS (the `real-server` project runs some of the same files against it).
 */
export function testTemporal() {
  return resolveTestTemporal(undefined, { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml', ...inject('temporalEnv') });
}
