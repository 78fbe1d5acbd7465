import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestCertificates } from './certificates.js';
import type { PostgresTarget, TemporalDatabases } from './postgres-schemas.js';
import type { ServerPorts } from './server-ports.js';

/** `mtls`: client certificates, no authorizer. `api-key`: server TLS only, JWT bearer keys checked by the default authorizer. */
export type RealServerMode = 'mtls' | 'api-key';

export interface ServerConfigInput {
  /** The server's `--root`; the config goes to `root/config/development.yaml`. */
  root: string;
  mode: RealServerMode;
  ports: ServerPorts;
  postgres: PostgresTarget;
  databases: TemporalDatabases;
  certificates: TestCertificates;
  /** api-key mode: where the server fetches the keys that sign API keys. */
  jwksUrl?: string;
  dynamicConfigFile: string;
  logLevel: string;
  numHistoryShards: number;
}

function datastore(postgres: PostgresTarget, databaseName: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password ?? '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

function tls({ mode, certificates: c }: ServerConfigInput) {
  // The server's own clients (and, in mtls mode, its system worker) reach the frontend like any client: by name, trusting our CA.
  const ownClient = { serverName: 'localhost', rootCaFiles: [c.ca.cert] };
  if (mode === 'api-key') {
    // SDKs turn TLS on whenever an API key is set, so the frontend speaks TLS, but asks for no client certificate.
    return { frontend: { server: { certFile: c.server.cert, keyFile: c.server.key, requireClientAuth: false }, client: ownClient } };
  }
  return {
    frontend: {
      server: { certFile: c.server.cert, keyFile: c.server.key, requireClientAuth: true, clientCaFiles: [c.ca.cert] },
      client: ownClient,
    },
    systemWorker: { certFile: c.client.cert, keyFile: c.client.key, client: ownClient },
  };
}

function authorization(input: ServerConfigInput) {
  if (input.mode !== 'api-key') return undefined;
  if (!input.jwksUrl) throw new Error('api-key mode needs a JWKS URL');
  return {
    authorizer: 'default',
    claimMapper: 'default',
    permissionsClaimName: 'permissions',
    jwtKeyProvider: { keySourceURIs: [input.jwksUrl], refreshInterval: '1m' },
  };
}

/**
 * Writes the server's config: everything on 127.0.0.1, Postgres for both history and (SQL)
 * visibility, TLS on the frontend only (the other services talk over loopback), archival off.
 * Returns the config file.
 */
export function writeServerConfig(input: ServerConfigInput): string {
  const { ports, postgres, databases } = input;
  const frontend = ports.frontend;
  if (!frontend) throw new Error('a server needs a frontend');
  const services = Object.fromEntries(
    Object.entries(ports).map(([service, p]) => [
      service,
      { rpc: { grpcPort: p.grpc, membershipPort: p.membership, bindOnIP: '127.0.0.1' } },
    ]),
  );
  const config = {
    log: { stdout: true, level: input.logLevel },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: input.numHistoryShards,
      datastores: { default: datastore(postgres, databases.temporal, 20), visibility: datastore(postgres, databases.visibility, 5) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      tls: tls(input),
      authorization: authorization(input),
    },
    services,
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${frontend.grpc}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: input.dynamicConfigFile, pollInterval: '10s' },
  };
  const dir = join(input.root, 'config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'development.yaml');
  // The file holds the database password: readable by its owner only.
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}
