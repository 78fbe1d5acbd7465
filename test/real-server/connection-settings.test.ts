import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectLifeline } from '../../src/client/connect-lifeline.js';
import { createLogger } from '../../src/util/logger.js';
import { isolatedEnvironment } from '../../tools/processes/isolated-environment.js';
import { createJwtIssuer } from '../../tools/real-temporal/jwt-issuer.js';
import { startApiKeyTemporalServer, type ApiKeyTemporalServer } from '../../tools/real-temporal/real-temporal-server.js';
import { runCli } from '../support/cli-process.js';

const ctx = inject('realServer');
const certs = ctx.certificates;
const workerEntry = fileURLToPath(new URL('../../src/worker.ts', import.meta.url));

/** The CLI with these Temporal settings (and Lifeline's Postgres), asked something only Temporal answers. */
async function cliWith(temporalEnv: Record<string, string>) {
  const env = isolatedEnvironment({ ...temporalEnv, DATABASE_URL: ctx.databaseUrl, REDIS_URL: ctx.redisUrl });
  return runCli(['schedules', 'list', '--json'], env);
}

/** A refusal is one line that names the setting to fix: no stack trace, no wait for a deadline. */
function expectOneLine(result: { code: number | null; stderr: string }, ...parts: string[]) {
  expect(result.code, result.stderr).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  for (const part of parts) expect(lines[0]).toContain(part);
}

describe('over mutual TLS, each wrong setting', () => {
  const good = ctx.clientEnv;

  it('works when all are right, for the CLI and connectLifeline alike', async () => {
    const result = await cliWith(good);
    expect(result.code, result.stderr).toBe(0);
    // Other files may have schedules on this namespace: the answer itself is the point.
    expect(JSON.parse(result.stdout)).toBeInstanceOf(Array);

    const { lifeline, close } = await connectLifeline({
      env: { ...good, DATABASE_URL: ctx.databaseUrl, TEMPORAL_CONFIG_FILE: '/nonexistent' },
    });
    try {
      await expect(lifeline.schedules.list()).resolves.toBeInstanceOf(Array);
    } finally {
      await close();
    }
  });

  it('a CA that did not sign the server certificate', async () => {
    const result = await cliWith({ ...good, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.unrelatedCa.cert });
    expectOneLine(
      result,
      "the server's certificate is not signed by a CA trusted through TEMPORAL_TLS_SERVER_CA_CERT_PATH",
      certs.unrelatedCa.cert,
    );
  });

  it('an expired client certificate', async () => {
    const result = await cliWith({
      ...good,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.expiredClient.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.expiredClient.key,
    });
    expectOneLine(result, `TEMPORAL_TLS_CLIENT_CERT_PATH: the certificate ${certs.expiredClient.cert} expired on`);
  });

  it('a server name not in the server certificate', async () => {
    const result = await cliWith({ ...good, TEMPORAL_TLS_SERVER_NAME: 'wrong.example' });
    expectOneLine(result, `not valid for "wrong.example" (TEMPORAL_TLS_SERVER_NAME)`);
  });

  it('a client certificate the server does not trust', async () => {
    const result = await cliWith({
      ...good,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.unrelatedClient.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.unrelatedClient.key,
    });
    expectOneLine(result, 'the server refused the client certificate TEMPORAL_TLS_CLIENT_CERT_PATH', certs.unrelatedClient.cert);
  });

  it('no client certificate at all', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...withoutCert } = good;
    const result = await cliWith(withoutCert);
    expectOneLine(result, 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  });

  it('a profile that the config file does not have', async () => {
    const file = join(ctx.stackDir, 'temporal.toml');
    writeFileSync(file, `[profile.prod]\naddress = "${ctx.address}"\n`);
    const result = await cliWith({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' });
    expectOneLine(result, `TEMPORAL_PROFILE: no profile "staging" in ${file}`);
  });

  it('a worker with a refused certificate exits with the same line', async () => {
    const worker = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
      env: isolatedEnvironment({
        ...good,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.unrelatedClient.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.unrelatedClient.key,
        DATABASE_URL: ctx.databaseUrl,
        REDIS_URL: ctx.redisUrl,
        LIFELINE_METRICS_PORT: '0',
        LIFELINE_LOG_LEVEL: 'warn',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => worker.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringContaining('the server refused the client certificate TEMPORAL_TLS_CLIENT_CERT_PATH'),
    ]);
  });
});

describe('with an API key', () => {
  let server: ApiKeyTemporalServer;
  const namespace = 'lifeline-keys';

  beforeAll(async () => {
    server = await startApiKeyTemporalServer({
      dir: join(ctx.stackDir, 'temporal-api-key'),
      postgres: ctx.postgres,
      databasePrefix: 'apikey',
      log: createLogger('api-key-server', 'warn'),
      certificates: certs,
      binaries: ctx.binaries,
    });
    await server.createNamespace(namespace);
  });
  afterAll(() => server?.stop());

  /** What a user of Temporal Cloud sets: address, namespace, key, and here the private CA of this server. */
  const keyEnv = (apiKey: string, ns = namespace) => ({
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: ns,
    TEMPORAL_API_KEY: apiKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca.cert,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });

  it('the CLI and connectLifeline work with a key of the namespace', async () => {
    const apiKey = server.mintApiKey({ permissions: [`${namespace}:write`] });
    const result = await cliWith(keyEnv(apiKey));
    expect(result.code, result.stderr).toBe(0);

    const { lifeline, close } = await connectLifeline({
      env: { ...keyEnv(apiKey), DATABASE_URL: ctx.databaseUrl, TEMPORAL_CONFIG_FILE: '/nonexistent' },
    });
    try {
      await expect(lifeline.schedules.list()).resolves.toBeInstanceOf(Array);
    } finally {
      await close();
    }
  });

  it('a key the server refuses, and a key of another namespace, name the key and the namespace', async () => {
    const forged = createJwtIssuer(server.keyId).mint({ permissions: [`${namespace}:admin`] });
    expectOneLine(
      await cliWith(keyEnv(forged)),
      'the API key (TEMPORAL_API_KEY) was refused for namespace lifeline-keys (TEMPORAL_NAMESPACE)',
    );

    const otherNamespace = server.mintApiKey({ permissions: ['elsewhere:admin'] });
    expectOneLine(await cliWith(keyEnv(otherNamespace)), 'the API key (TEMPORAL_API_KEY) was refused for namespace lifeline-keys');

    await expect(
      connectLifeline({ env: { ...keyEnv(forged), DATABASE_URL: ctx.databaseUrl, TEMPORAL_CONFIG_FILE: '/nonexistent' } }),
    ).rejects.toThrow('the API key (TEMPORAL_API_KEY) was refused for namespace lifeline-keys');
  });

  it('a worker key cannot add search attributes, and setup says what to run instead', async () => {
    const writer = server.mintApiKey({ permissions: [`${namespace}:write`] });
    const denied = await runCli(['setup'], isolatedEnvironment({ ...keyEnv(writer), DATABASE_URL: ctx.databaseUrl }));
    expect(denied.code).not.toBe(0);
    const printed = await runCli(['setup', '--print'], isolatedEnvironment({ ...keyEnv(writer), DATABASE_URL: ctx.databaseUrl }));
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain(
      `temporal operator search-attribute create --namespace ${namespace} --name LifelineAgent --type Keyword`,
    );
    expect(printed.stdout).toContain(`tcld namespace search-attributes add --namespace ${namespace}`);

    const admin = server.mintApiKey({ permissions: [`${namespace}:admin`] });
    const setup = await runCli(['setup', '--json'], isolatedEnvironment({ ...keyEnv(admin), DATABASE_URL: ctx.databaseUrl }), 180_000);
    expect(setup.code, setup.stderr).toBe(0);
    expect((JSON.parse(setup.stdout) as { searchAttributes: { added: string[] } }).searchAttributes.added).toContain('LifelineAgent');
  });
});
