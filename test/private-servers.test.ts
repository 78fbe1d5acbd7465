import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevStack, type DevStack } from '../src/stack/dev-stack.js';
import { RedisServer } from '../src/stack/redis-server.js';
import { silentLogger } from '../src/util/logger.js';

/**
 * `npm start`'s and the tests' own servers listen on loopback, which every local user shares: what
 * they hold must need more than reaching the port.
 */
describe("the stack's own Redis", () => {
  let dir: string;
  let redis: RedisServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-private-redis-'));
    redis = await RedisServer.create({ dir: join(dir, 'redis'), log: silentLogger() });
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client without its password, which is in neither its command line nor a file others can read', async () => {
    // A stranger on the port: what Redis answers a command without the password.
    const socket = connect(redis.port, '127.0.0.1');
    socket.end('KEYS *\r\n');
    let answer = '';
    for await (const chunk of socket) answer += String(chunk);
    expect(answer).toMatch(/^-NOAUTH/);
    const owner = new Redis(redis.url);
    try {
      expect(await owner.ping()).toBe('PONG');
    } finally {
      owner.disconnect();
    }
    const password = decodeURIComponent(new URL(redis.url).password);
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(readFileSync(`/proc/${redis.pid}/cmdline`, 'utf8')).not.toContain(password);
    expect(statSync(join(dir, 'redis', 'redis.conf')).mode & 0o077).toBe(0);
  });
});

/** What another local user gets when running a command: its exit status and everything it printed. */
function asNobody(command: string, args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', command, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    cwd: '/',
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

// Another local user is only to be had as root (setpriv); CI runs as root.
describe.skipIf(process.getuid?.() !== 0)("npm start's whole stack, seen by another local user", () => {
  let parent: string;
  let stack: DevStack;
  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'lifeline-private-stack-'));
    // A parent that others may enter, holding a private one: neither mode may change.
    chmodSync(parent, 0o755);
    mkdirSync(join(parent, 'private'), { mode: 0o700 });
    stack = await startDevStack({
      dir: join(parent, 'private', 'data'),
      log: silentLogger(),
      namespace: 'default',
      persistTemporal: true,
      ephemeral: true,
      temporalCliPath: process.env.LIFELINE_TEMPORAL_CLI,
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  it('leaves the parent directories as they were, and keeps its data, Temporal database included, in 0700 directories', () => {
    expect(statSync(parent).mode & 0o777).toBe(0o755);
    expect(statSync(join(parent, 'private')).mode & 0o777).toBe(0o700);
    const data = join(parent, 'private', 'data');
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(existsSync(join(data, 'temporal.sqlite'))).toBe(true);
    expect(statSync(stack.postgres!.dataDir).mode & 0o777).toBe(0o700);
  });

  it('lets no other local user read its files or use its Postgres and Redis without their passwords', () => {
    const data = join(parent, 'private', 'data');
    // Made reachable for this probe only, so each refusal below is that file's or server's own.
    chmodSync(join(parent, 'private'), 0o711);
    try {
      for (const file of [join(data, 'temporal.sqlite'), join(data, 'postgres', 'password'), join(stack.postgres!.dataDir, 'PG_VERSION')]) {
        const read = asNobody('cat', [file]);
        expect({ file, ...read }).toMatchObject({ status: 1, out: expect.stringContaining('Permission denied') });
      }
    } finally {
      chmodSync(join(parent, 'private'), 0o700);
    }
    const postgres = new URL(stack.databaseUrl);
    const psql = ['-h', '127.0.0.1', '-p', postgres.port, '-U', 'postgres', '-d', 'lifeline', '-w', '-tAc', 'SELECT 1'];
    expect(asNobody('psql', psql)).toMatchObject({ status: 2, out: expect.stringMatching(/password/) });
    // The control: with the password, the same user and command get in, so the refusal above was the password's.
    expect(asNobody('psql', psql, { PGPASSWORD: decodeURIComponent(postgres.password) })).toMatchObject({ status: 0, out: '1\n' });
    const redis = new URL(stack.redisUrl);
    expect(asNobody('redis-cli', ['-h', '127.0.0.1', '-p', redis.port, '--no-auth-warning', 'KEYS', '*']).out).toMatch(/NOAUTH/);
  });
});
