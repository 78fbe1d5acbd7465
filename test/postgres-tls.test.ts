import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { PostgresServer } from '../src/stack/postgres-server.js';
import { silentLogger } from '../src/util/logger.js';
import { reachOrExplain, redactedAddress } from '../src/config/server-address.js';
import { createTestCertificates, type TestCertificates } from '../tools/real-temporal/certificates.js';

describe('Postgres over TLS: DATABASE_URL with sslmode=verify-full and sslrootcert', () => {
  let dir: string;
  let server: PostgresServer;
  let certs: TestCertificates;
  const log = silentLogger();
  const urlTrusting = (ca: string) => `${server.url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-pg-tls-'));
    certs = await createTestCertificates(join(dir, 'certs'));
    server = await PostgresServer.create({
      dir: join(dir, 'pg'),
      database: 'lifeline_tls',
      log,
      unsafeFast: true,
      ssl: { cert: certs.server.cert, key: certs.server.key },
    });
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
    server?.removeData();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrates and pools over TLS, the server certificate verified against the CA file', async () => {
    const config = loadConfig({ DATABASE_URL: urlTrusting(certs.ca.cert) });
    const url = config.databaseUrl!;
    // node-pg-migrate opens its own connection from the URL: it takes the TLS settings from it as pg does.
    await migrate(url, log);
    const pool = createPool(url, log);
    try {
      const { rows } = await pool.query<{ ssl: boolean; applied: number }>(
        'SELECT ssl, (SELECT count(*)::int FROM pgmigrations) AS applied FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]).toMatchObject({ ssl: true });
      expect(rows[0]!.applied).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
  });

  it('refuses a server its CA file does not vouch for, in one line naming DATABASE_URL', async () => {
    const url = urlTrusting(certs.unrelatedCa.cert);
    const failure = await reachOrExplain('Postgres', redactedAddress(url), 'DATABASE_URL', () => migrate(url, log)).then(
      () => 'connected',
      (err: Error) => err.message,
    );
    expect(failure).toMatch(/^cannot reach Postgres at 127\.0\.0\.1:\d+\/lifeline_tls \(DATABASE_URL\): [^\n]*certificate[^\n]*$/);
  });
});
