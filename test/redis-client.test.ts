import type { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedis } from '../src/db/redis.js';
import { silentLogger } from '../src/util/logger.js';
import { waitUntil } from '../src/util/wait-until.js';

/** The connector ioredis connects through (Sentinel's resolves the master first); internal to ioredis. */
type WithConnector = { connector: { connect: (...args: unknown[]) => Promise<unknown> } };

describe("Lifeline's Redis client against a real Redis", () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('connects again when ioredis gives its connection up for good, and not after its owner closed it', async () => {
    const redis = createRedis(inject('redisUrl'), silentLogger()) as Redis;
    clients.push(redis);
    expect(await redis.ping()).toBe('PONG');

    // A connection attempt that fails inside the connector ends an ioredis client for good, as a
    // Sentinel failover noticed while it reconnects does (redis/ioredis#1683): one such attempt here.
    const { connector } = redis as unknown as WithConnector;
    const connect = connector.connect.bind(connector);
    connector.connect = () => {
      connector.connect = connect;
      return Promise.reject(new Error('Connection is closed.'));
    };
    // Not events.once: the failed attempt also emits `error`, which would reject it.
    const ended = new Promise((resolve) => redis.once('end', resolve));
    redis.disconnect(true);
    await ended;
    await expect(redis.ping()).rejects.toThrow('Connection is closed.');
    expect(await waitUntil(() => redis.ping(), { what: 'the ended client to answer again', timeoutMs: 10_000 })).toBe('PONG');

    // Closed by its owner, it stays closed: no connection attempt in twice the reconnect pause.
    let attempts = 0;
    redis.on('connecting', () => (attempts += 1));
    redis.disconnect();
    await waitUntil(async () => redis.status === 'end', { what: 'the client to close', timeoutMs: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(attempts).toBe(0);
    expect(redis.status).toBe('end');
  });
});
