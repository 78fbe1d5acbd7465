import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { TestCertificates } from './certificates.js';
import type { RealServerMode } from './server-config.js';

/** Options that both `Connection.connect` (@temporalio/client) and `NativeConnection.connect` (@temporalio/worker) accept. */
export interface TemporalConnectOptions {
  address: string;
  tls: TLSConfig;
  apiKey?: string;
}

/** The name the server certificate is for; clients check it instead of the IP they dial. */
export const SERVER_NAME = 'localhost';

/** mTLS with the accepted client certificate; in api-key mode, TLS trusting the test CA and the key given. */
export function connectOptions(
  mode: RealServerMode,
  address: string,
  certificates: TestCertificates,
  apiKey?: string,
): TemporalConnectOptions {
  const tls: TLSConfig = { serverNameOverride: SERVER_NAME, serverRootCACertificate: readFileSync(certificates.ca.cert) };
  if (mode === 'mtls') {
    tls.clientCertPair = { crt: readFileSync(certificates.client.cert), key: readFileSync(certificates.client.key) };
  }
  return apiKey === undefined ? { address, tls } : { address, tls, apiKey };
}

/**
 * The `TEMPORAL_*` variables a Lifeline process sets to reach this server (the names of Temporal's
 * environment configuration, @temporalio/envconfig), so a test can start one as operators would.
 */
export function temporalClientEnv(
  mode: RealServerMode,
  address: string,
  namespace: string,
  certificates: TestCertificates,
  apiKey?: string,
): Record<string, string> {
  const common = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.ca.cert,
    TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  };
  if (mode === 'mtls') {
    return { ...common, TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.client.key };
  }
  if (!apiKey) throw new Error('an api-key server needs an API key in the client environment');
  return { ...common, TEMPORAL_API_KEY: apiKey };
}
