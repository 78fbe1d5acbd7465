import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../src/config/config.js';
import { temporalConnectOptions } from '../../src/temporal-connection/connection-options.js';
import { describeTemporalSettings, loadTemporalSettings } from '../../src/temporal-connection/connection-settings.js';

let dir: string;
const noFile = { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' };

/** A self-signed certificate and key valid from `days` ago (negative: still valid) for one day. */
function certificate(name: string, validFromDaysAgo: number): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}-key.pem`);
  const start = new Date(Date.now() - validFromDaysAgo * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const end = new Date(Date.now() - (validFromDaysAgo - 1) * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '1'],
    {
      stdio: 'ignore',
    },
  );
  if (validFromDaysAgo !== 0) {
    // Re-sign with explicit dates: `openssl x509 -not_before` is not in Debian 12's OpenSSL 3.0, `openssl ca` is.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'ca.cnf'),
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\nnew_certs_dir=${dir}\nserial=${dir}/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n`,
    );
    writeFileSync(join(dir, 'serial'), '01\n');
    execFileSync('openssl', ['req', '-new', '-key', key, '-out', `${cert}.csr`, '-subj', `/CN=${name}`], { stdio: 'ignore' });
    execFileSync(
      'openssl',
      [
        'ca',
        '-batch',
        '-config',
        join(dir, 'ca.cnf'),
        '-selfsign',
        '-keyfile',
        key,
        '-in',
        `${cert}.csr`,
        '-out',
        cert,
        '-startdate',
        start,
        '-enddate',
        end,
        '-notext',
      ],
      { stdio: 'ignore' },
    );
  }
  return { cert, key };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeline-tls-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Temporal's connection settings", () => {
  it("follow Temporal's variables, with Lifeline's aliases above them and empty variables unset", () => {
    const s = loadTemporalSettings({
      ...noFile,
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'prod',
      LIFELINE_TEMPORAL_NAMESPACE: '',
    });
    expect(s).toMatchObject({
      address: 'temporal.example:7233',
      addressFrom: 'TEMPORAL_ADDRESS',
      namespace: 'prod',
      namespaceFrom: 'TEMPORAL_NAMESPACE',
      tls: false,
    });
    const aliased = loadTemporalSettings({
      ...noFile,
      TEMPORAL_ADDRESS: 'a:1',
      LIFELINE_TEMPORAL_ADDRESS: 'b:2',
      LIFELINE_TEMPORAL_NAMESPACE: 'ns',
    });
    expect(aliased).toMatchObject({ address: 'b:2', addressFrom: 'LIFELINE_TEMPORAL_ADDRESS', namespace: 'ns' });
    expect(loadTemporalSettings({ ...noFile, TEMPORAL_ADDRESS: ' ' })).toMatchObject({
      address: undefined,
      namespace: 'default',
      namespaceFrom: 'default',
    });
  });

  it('read a temporal.toml profile, name where each setting came from, and refuse an unknown profile by name', () => {
    const file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "default.example:7233"',
        '[profile.cloud]',
        'address = "ns.acct.tmprl.cloud:7233"',
        'namespace = "ns.acct"',
        'api_key = "secret-key"',
        '[profile.cloud.grpc_meta]',
        'x-team = "agents"',
      ].join('\n'),
    );
    const cloud = loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud).toMatchObject({
      address: 'ns.acct.tmprl.cloud:7233',
      addressFrom: `address of profile "cloud" in ${file}`,
      namespace: 'ns.acct',
      apiKey: 'secret-key',
      // An API key goes over TLS only.
      tls: true,
      metadata: { 'x-team': 'agents' },
    });
    expect(loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({ address: 'default.example:7233' });
    expect(loadTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_ADDRESS: 'env:1' })).toMatchObject({
      address: 'env:1',
      addressFrom: 'TEMPORAL_ADDRESS',
    });
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(
      `TEMPORAL_PROFILE: no profile "staging" in ${file}`,
    );
  });

  it('never show an API key, key data or header values in the configuration summary', () => {
    const config = loadConfig({
      ...noFile,
      TEMPORAL_ADDRESS: 'x:7233',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS_CLIENT_CERT_DATA: 'cert-pem',
      TEMPORAL_TLS_CLIENT_KEY_DATA: 'secret-pem',
      TEMPORAL_GRPC_META_X_TOKEN: 'secret-header',
    });
    const printed = JSON.stringify(describeConfig(config));
    expect(printed).not.toMatch(/secret-(key|pem|header)/);
    expect(describeTemporalSettings(config.temporal)).toMatchObject({
      apiKey: '***',
      metadata: ['x-token'],
      tls: { clientKey: '*** (TEMPORAL_TLS_CLIENT_KEY_DATA)' },
    });
  });

  it('name the setting of a TLS file that is missing, not PEM, or holds an expired certificate', () => {
    const settings = (env: Record<string, string>) => loadTemporalSettings({ ...noFile, TEMPORAL_ADDRESS: 'x:7233', ...env });
    expect(() => temporalConnectOptions(settings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }))).toThrow(
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read CA certificate ${join(dir, 'missing.pem')}: no such file`,
    );
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    expect(() => temporalConnectOptions(settings({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'not-pem.txt') }))).toThrow(
      /is not a PEM CA certificate/,
    );

    const valid = certificate('valid', 0);
    expect(() => temporalConnectOptions(settings({ TEMPORAL_TLS_CLIENT_CERT_PATH: valid.cert }))).toThrow(
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set but TEMPORAL_TLS_CLIENT_KEY_PATH (or its _DATA form) is not: mutual TLS needs both',
    );
    const options = temporalConnectOptions(
      settings({
        TEMPORAL_TLS_CLIENT_CERT_PATH: valid.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: valid.key,
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      }),
    );
    expect(options.tls).toMatchObject({
      serverNameOverride: 'localhost',
      clientCertPair: { crt: expect.any(Buffer), key: expect.any(Buffer) },
    });

    const expired = certificate('expired', 3);
    expect(() =>
      temporalConnectOptions(settings({ TEMPORAL_TLS_CLIENT_CERT_PATH: expired.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: expired.key })),
    ).toThrow(new RegExp(`^TEMPORAL_TLS_CLIENT_CERT_PATH: the certificate ${expired.cert} expired on `));
  });

  it("keep a profile's TLS key out of reach of agent token references", () => {
    const file = join(dir, 'mtls.toml');
    const key = join(dir, 'profile-client.key');
    writeFileSync(
      file,
      `[profile.default]\naddress = "x:7233"\n[profile.default.tls]\nclient_cert_path = "${join(dir, 'c.pem')}"\nclient_key_path = "${key}"\n`,
    );
    const { agentTokens } = loadConfig({ TEMPORAL_CONFIG_FILE: file, LIFELINE_AGENT_TOKEN_DIR: dir });
    expect(agentTokens.secretFiles).toContainEqual({ setting: `tls.client_key_path of profile "default" in ${file}`, path: key });
  });

  it('refuse an address that is not host:port, naming the variable it came from', () => {
    expect(() => loadConfig({ ...noFile, TEMPORAL_ADDRESS: 'https://temporal.example' })).toThrow('TEMPORAL_ADDRESS: must be host:port');
  });
});
