import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../src/stack/run-command.js';

/** A certificate and its private key, both PEM files. */
export interface CertificatePair {
  cert: string;
  key: string;
}

/** Every file a test needs, good and bad; all paths are absolute PEM files. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the server certificate and the accepted client certificate. */
  ca: CertificatePair;
  /** For `localhost` and 127.0.0.1. */
  server: CertificatePair;
  client: CertificatePair;
  /** A CA that signed nothing the server knows: a client trusting it must refuse the server. */
  unrelatedCa: CertificatePair;
  /** Signed by the unrelated CA: the server must refuse it. */
  unrelatedClient: CertificatePair;
  /** Signed by the real CA, valid from 2020-01-01 to 2020-01-02. */
  expiredClient: CertificatePair;
}

const openssl = (args: string[]) => runCommand('openssl', args);

/**
 * P-256 keys: generated in milliseconds (RSA takes seconds on a busy machine), and accepted by
 * the Go server, grpc-js and the Rust core's rustls alike. `-newkey` writes PKCS#8, which all three read.
 */
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function createCa(dir: string, name: string, subject: string): Promise<CertificatePair> {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  await openssl([
    'req',
    '-x509',
    ...newKey,
    '-keyout',
    pair.key,
    '-out',
    pair.cert,
    '-days',
    '3650',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

/** rustls (webpki) refuses leaf certificates without these extensions, so every leaf gets them explicitly. */
function leafExtensions(dir: string, name: string, usage: 'serverAuth' | 'clientAuth'): string {
  const file = join(dir, `${name}.ext`);
  const san = usage === 'serverAuth' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : '';
  writeFileSync(file, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n${san}`);
  return file;
}

async function createLeaf(dir: string, name: string, subject: string, ca: CertificatePair, usage: 'serverAuth' | 'clientAuth') {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const csr = join(dir, `${name}.csr`);
  await openssl(['req', '-new', ...newKey, '-keyout', pair.key, '-out', csr, '-subj', subject]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-CAserial',
    join(dir, `${name}.srl`),
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    leafExtensions(dir, name, usage),
    '-out',
    pair.cert,
  ]);
  return pair;
}

/**
 * OpenSSL 3.0's `x509 -req` cannot set a start date in the past (`-not_before` came in 3.4), but
 * `openssl ca` can, given its little database of issued certificates.
 */
async function createExpiredClient(dir: string, ca: CertificatePair): Promise<CertificatePair> {
  const pair = { cert: join(dir, 'expired-client.pem'), key: join(dir, 'expired-client-key.pem') };
  const csr = join(dir, 'expired-client.csr');
  const db = join(dir, 'expired-ca-db');
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '1000\n');
  const config = join(db, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${join(db, 'index.txt')}`,
      `new_certs_dir = ${db}`,
      `serial = ${join(db, 'serial')}`,
      'default_md = sha256',
      'policy = any_subject',
      'unique_subject = no',
      '[any_subject]',
      'commonName = supplied',
      '[client_ext]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', ...newKey, '-keyout', pair.key, '-out', csr, '-subj', '/CN=lifeline-expired-client']);
  await openssl([
    'ca',
    '-batch',
    '-notext',
    '-config',
    config,
    '-cert',
    ca.cert,
    '-keyfile',
    ca.key,
    '-in',
    csr,
    '-out',
    pair.cert,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-extensions',
    'client_ext',
  ]);
  return pair;
}

/** Creates a fresh set of test certificates in `dir` with the `openssl` CLI (well under a second). */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  mkdirSync(dir, { recursive: true });
  const [ca, unrelatedCa] = await Promise.all([
    createCa(dir, 'ca', '/CN=Lifeline test CA'),
    createCa(dir, 'unrelated-ca', '/CN=Unrelated test CA'),
  ]);
  const [server, client, unrelatedClient, expiredClient] = await Promise.all([
    createLeaf(dir, 'server', '/CN=localhost', ca, 'serverAuth'),
    createLeaf(dir, 'client', '/CN=lifeline-client', ca, 'clientAuth'),
    createLeaf(dir, 'unrelated-client', '/CN=lifeline-client', unrelatedCa, 'clientAuth'),
    createExpiredClient(dir, ca),
  ]);
  return { dir, ca, server, client, unrelatedCa, unrelatedClient, expiredClient };
}
