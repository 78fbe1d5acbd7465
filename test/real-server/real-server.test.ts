import { Connection } from '@temporalio/client';
import { NativeConnection, TransportError, type NativeConnectionOptions } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/util/logger.js';
import { connectOptions } from '../../tools/real-temporal/client-access.js';
import { createJwtIssuer } from '../../tools/real-temporal/jwt-issuer.js';
import { startApiKeyTemporalServer, type ApiKeyTemporalServer } from '../../tools/real-temporal/real-temporal-server.js';

// The raw SDK on purpose: this proves the topology, whatever Lifeline's own connection code does.
const ctx = inject('realServer');
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/** The gRPC status of a refusal: on the error itself, or on its cause when Connection.connect wraps it. */
function grpcCode(err: unknown): number | undefined {
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  if (typeof code === 'number') return code;
  return cause === undefined ? undefined : grpcCode(cause);
}

async function refusal(attempt: Promise<unknown>): Promise<unknown> {
  try {
    await attempt;
  } catch (err) {
    return err;
  }
  throw new Error('expected the server to refuse, and it accepted');
}

describe('the mTLS server', () => {
  const ca = readFileSync(ctx.certificates.ca.cert);
  const certs = ctx.certificates;
  const pair = (p: { cert: string; key: string }) => ({ crt: readFileSync(p.cert), key: readFileSync(p.key) });

  it('serves Temporal 1.32 to a client configured from clientEnv', async () => {
    const env = ctx.clientEnv;
    const connection = await Connection.connect({
      address: env.TEMPORAL_ADDRESS,
      tls: {
        serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME,
        serverRootCACertificate: readFileSync(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH!),
        clientCertPair: { crt: readFileSync(env.TEMPORAL_TLS_CLIENT_CERT_PATH!), key: readFileSync(env.TEMPORAL_TLS_CLIENT_KEY_PATH!) },
      },
    });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^1\.32\./);
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: env.TEMPORAL_NAMESPACE });
      expect(namespaceInfo?.name).toBe(ctx.namespace);
    } finally {
      await connection.close();
    }
  });

  it('refuses a grpc-js connection without a client certificate', async () => {
    // grpc-js keeps retrying a refused handshake, so the refusal shows as the connect deadline passing.
    const err = await refusal(
      Connection.connect({
        address: ctx.address,
        tls: { serverNameOverride: 'localhost', serverRootCACertificate: ca },
        connectTimeout: 5_000,
      }),
    );
    expect((err as Error).message).toMatch(/Failed to connect before the deadline/);
  });

  // The Rust core fails at once. When the client refuses, its message names the cause; when the
  // server does, whether the client reads the server's TLS alert before the connection drops is a
  // race, so the message has the alert, or only "connection closed" or "broken pipe".
  // The server judges a client certificate after the TLS 1.3 handshake: whether the Rust core reads
  // its alert before the connection drops is a race, so only the refusal itself is certain (Lifeline
  // names the cause with a handshake of its own: test/real-server/connection-settings.test.ts).
  const serverRefuses = (alert: string) =>
    new RegExp(`received fatal alert: ${alert}|connection closed|broken pipe|[Rr]eset|transport error|cancel`);
  const trustingCa = { serverNameOverride: 'localhost', serverRootCACertificate: ca };
  it.each<[string, NativeConnectionOptions['tls'], RegExp]>([
    ['no client certificate', trustingCa, serverRefuses('CertificateRequired')],
    ['a client certificate from another CA', { ...trustingCa, clientCertPair: pair(certs.unrelatedClient) }, serverRefuses('UnknownCA')],
    ['an expired client certificate', { ...trustingCa, clientCertPair: pair(certs.expiredClient) }, serverRefuses('CertificateExpired')],
    [
      'trust in the wrong CA',
      { ...trustingCa, serverRootCACertificate: readFileSync(certs.unrelatedCa.cert), clientCertPair: pair(certs.client) },
      /InvalidCertificate\(UnknownIssuer\)/,
    ],
    [
      'the wrong server name',
      { ...trustingCa, serverNameOverride: 'wrong.example', clientCertPair: pair(certs.client) },
      /NotValidForName/,
    ],
  ])('refuses a native connection with %s', async (_case, tls, cause) => {
    const err = await refusal(NativeConnection.connect({ address: ctx.address, tls }));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(cause);
  });
});

describe('an API-key server beside it', () => {
  let server: ApiKeyTemporalServer;
  const namespace = ctx.namespace;
  const connect = (apiKey: string) =>
    Connection.connect({ ...connectOptions('api-key', server.address, server.certificates, apiKey), connectTimeout: 10_000 });

  beforeAll(async () => {
    const id = randomUUID().slice(0, 8);
    server = await startApiKeyTemporalServer({
      dir: join(ctx.stackDir, `temporal-api-key-${id}`),
      postgres: ctx.postgres,
      databasePrefix: `apikey_${id}`,
      binaries: ctx.binaries,
      log: silentLogger(),
    });
    // Registered with a temporal-system:admin key: a namespace admin cannot create namespaces.
    await server.createNamespace(namespace);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('lets a key for the namespace list its search attributes and workflows, also after a restart', async () => {
    const key = server.mintApiKey({ permissions: [`${namespace}:admin`] });
    const useKey = async () => {
      const connection = await connect(key);
      try {
        const { systemAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        expect(systemAttributes).toHaveProperty('WorkflowType');
        const { executions } = await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 10 });
        expect(executions).toEqual([]);
      } finally {
        await connection.close();
      }
    };
    await useKey();
    const address = server.address;
    await server.restart();
    expect(server.address).toBe(address);
    await useKey();
  });

  it('refuses a key signed by another RSA key, even under the trusted key id', async () => {
    // Another key id makes the server find no key; the trusted one makes the signature check fail.
    for (const kid of [undefined, server.keyId]) {
      const forged = createJwtIssuer(kid).mint({ permissions: [`${namespace}:admin`] });
      expect([PERMISSION_DENIED, UNAUTHENTICATED]).toContain(grpcCode(await refusal(connect(forged))));
    }
  });

  it('refuses a valid key for another namespace', async () => {
    const connection = await connect(server.mintApiKey({ permissions: ['another-namespace:admin'] }));
    try {
      const err = await refusal(connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 }));
      expect([PERMISSION_DENIED, UNAUTHENTICATED]).toContain(grpcCode(err));
    } finally {
      await connection.close();
    }
  });
});
