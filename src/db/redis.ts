import { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';

/** A Redis client that reconnects forever and reports, rather than throws, connection trouble. */
export function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 3, retryStrategy: (times) => Math.min(times * 200, 2000) });
  let lastWarned = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastWarned > 10_000) {
      lastWarned = Date.now();
      log.warn({ err: err.message }, 'Redis connection error; reconnecting');
    }
  });
  return redis;
}
