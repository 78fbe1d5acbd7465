import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { parseRedisUrl } from '../config/redis-topology.js';
import { createRepeatedWarnings } from '../util/repeated-warnings.js';

/** One Redis node (directly or through Sentinel) or a Redis Cluster: every Lifeline command works on both. */
export type RedisClient = Redis | Cluster;

export interface RedisTlsOptions {
  /** LIFELINE_REDIS_CA_FILE: the CA that signed the servers' certificates, instead of the system's. */
  caFile?: string | undefined;
}

/** Node's codes for a server certificate it does not trust. */
const certificateCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One line on a connection error; a refused certificate names the setting that decides it. */
export function describeRedisError(err: Error & { code?: string }, tls: RedisTlsOptions): string {
  if (err.code === undefined || !certificateCodes.has(err.code)) return err.message;
  const trust = tls.caFile ? `the CA in LIFELINE_REDIS_CA_FILE (${tls.caFile})` : "the system's CAs (set LIFELINE_REDIS_CA_FILE)";
  return `Redis' TLS certificate is not trusted by ${trust}: ${err.message}`;
}

function tlsOptions(tls: RedisTlsOptions): ConnectionOptions {
  if (!tls.caFile) return {};
  try {
    return { ca: readFileSync(tls.caFile) };
  } catch (err) {
    throw new Error(`LIFELINE_REDIS_CA_FILE: cannot read ${tls.caFile}: ${(err as Error).message}`);
  }
}

const lastProblems = new WeakMap<RedisClient, string>();

/**
 * Why a command failed, for a startup check's one line: ioredis rejects it with "max retries
 * reached", while the cause (a refused certificate, say) came as a connection error before.
 */
export function redisFailureReason(redis: RedisClient, err: unknown): string {
  return lastProblems.get(redis) ?? (err instanceof Error ? err.message : String(err));
}

const reconnecting: RedisOptions = { maxRetriesPerRequest: 3, retryStrategy: (times) => Math.min(times * 200, 2000) };

/**
 * A Redis client for REDIS_URL (src/config/redis-topology.ts: one node, Sentinel or Cluster, TLS with
 * `rediss`) that reconnects forever and reports, rather than throws, connection trouble.
 */
export function createRedis(url: string, log: Logger, tlsSettings: RedisTlsOptions = {}, opts: { failFast?: boolean } = {}): RedisClient {
  const topology = parseRedisUrl(url);
  if ('problem' in topology) throw new Error(`REDIS_URL: ${topology.problem}`);
  const tls = topology.tls ? tlsOptions(tlsSettings) : undefined;
  // A command line's one command: it fails at the first connection that fails, not after retries.
  const common = opts.failFast ? { ...reconnecting, maxRetriesPerRequest: 0, connectTimeout: 3000 } : reconnecting;
  let redis: RedisClient;
  if (topology.kind === 'single') {
    redis = new Redis(url, { ...common, ...(tls ? { tls } : {}) });
  } else if (topology.kind === 'sentinel') {
    const { sentinels, masterName, db, username, password } = topology;
    redis = new Redis({
      ...common,
      sentinels,
      name: masterName,
      db,
      username,
      password,
      // A +switch-master from any sentinel moves the client to the new master at once.
      failoverDetector: true,
      // A master demoted under the client refuses writes until the client follows the sentinels.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
      ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    });
  } else {
    const { nodes, username, password } = topology;
    redis = new Cluster(nodes, {
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
      redisOptions: {
        maxRetriesPerRequest: common.maxRetriesPerRequest,
        connectTimeout: common.connectTimeout,
        username,
        password,
        ...(tls ? { tls } : {}),
      },
      // Certificates name the nodes as configured; the cluster's own view of them is by IP.
      ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    });
  }
  // An outage is one warning when it starts (then hourly, counted) and one line when it ends.
  const warnings = createRepeatedWarnings();
  let downSince: number | undefined;
  const warn = (err: Error) => {
    lastProblems.set(redis, describeRedisError(err, tlsSettings));
    downSince ??= Date.now();
    warnings.warn(log, 'redis', { err: describeRedisError(err, tlsSettings) }, 'Redis connection error; reconnecting');
  };
  redis.on('error', warn);
  redis.on('ready', () => {
    lastProblems.delete(redis);
    if (downSince !== undefined) log.info({ downForSeconds: Math.round((Date.now() - downSince) / 1000) }, 'Redis connection restored');
    downSince = undefined;
  });
  if (redis instanceof Cluster) redis.on('node error', warn);
  reconnectAfterEnd(redis, warn);
  return redis;
}

/**
 * ioredis ends a client for good, every later command failing with "Connection is closed.", when a
 * connection attempt fails inside its connector: a Sentinel failover noticed while the client
 * reconnects does it (redis/ioredis#1683). Lifeline's clients live as long as their process, so
 * one that ends without its owner closing it connects again.
 */
function reconnectAfterEnd(redis: RedisClient, warn: (err: Error) => void): void {
  let closing = false;
  const disconnect = redis.disconnect.bind(redis);
  const quit = redis.quit.bind(redis);
  redis.disconnect = (reconnect?: boolean) => {
    closing ||= !reconnect;
    disconnect(reconnect);
  };
  redis.quit = (...args: Parameters<typeof quit>) => {
    closing = true;
    return quit(...args);
  };
  redis.on('end', () => {
    if (closing) return;
    warn(new Error('the Redis client library gave up on its connection; connecting again'));
    setTimeout(() => {
      if (!closing && redis.status === 'end') redis.connect().catch(() => undefined);
    }, 1000).unref();
  });
}
