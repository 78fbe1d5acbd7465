import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
