/**
 * A real Temporal server (go.temporal.io/server, not the dev server) on loopback with TLS, for
 * tests and tools that must meet what production runs: mTLS or API keys, Postgres persistence and
 * SQL visibility, Compose's dynamic config.
 */
export { createTestCertificates, type CertificatePair, type TestCertificates } from './certificates.js';
export { connectOptions, temporalClientEnv, SERVER_NAME, type TemporalConnectOptions } from './client-access.js';
export { writeDynamicConfig } from './dynamic-config.js';
export { createJwtIssuer, type ApiKeyOptions, type JwtIssuer } from './jwt-issuer.js';
export { createNamespace, type CreateNamespaceOptions } from './namespaces.js';
export { createTemporalDatabases, postgresTargetFromUrl, type PostgresTarget, type TemporalDatabases } from './postgres-schemas.js';
export {
  startApiKeyTemporalServer,
  startMtlsTemporalServer,
  type ApiKeyTemporalServer,
  type MtlsTemporalServer,
  type RealTemporalServer,
  type RealTemporalServerOptions,
} from './real-temporal-server.js';
export { ensureTemporalServerBinaries, TEMPORAL_SERVER_VERSION, type TemporalServerBinaries } from './server-binaries.js';
export type { RealServerMode } from './server-config.js';
