import { lineage, markBuilt, now } from './slot-scripts.js';

/**
 * Lua scripts for a tenant's holds across agents (DESIGN: Tenants), on keys of the tenant's own
 * hash tag, so that a cluster keeps them on one shard whatever agents the runs are on:
 *   holders   — sorted set: member = execution id, score = when it was added (ms); plus the marker
 *   lineage   — string: the replication id of the Redis the holders were built on
 *   concluded — sorted set: member = execution id, score = when it was released
 * An execution holds here whenever it holds a slot on an agent: it is added before its agent's
 * acquire and removed after its release, so the count is never below what the tenant holds.
 * Like an agent's leases, the holders are trusted only while the marker and lineage say they are
 * complete; otherwise they are rebuilt from Postgres first.
 */

/**
 * KEYS: holders, lineage, concluded. ARGV: member, limit. Returns 2 when the member was added, 1
 * when it was there, 0 when the tenant is at its limit (or the member concluded), -1 (nothing
 * changed) when the holders must be rebuilt first.
 */
export const reserveScript = `
${now}
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return 0
end
${lineage('KEYS[1]', 'KEYS[2]')}
if not current then
  return -1
end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) - 1 >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 2
`;

/**
 * KEYS: holders, lineage. ARGV: member. Records a slot taken by a tenant without a limit, while
 * its holders are complete (so that a limit set later counts it); nothing when they are not (the
 * rebuild that a limit calls for reads it from Postgres). Returns 1 when recorded.
 */
export const noteScript = `
${now}
${lineage('KEYS[1]', 'KEYS[2]')}
if not current then
  return 0
end
redis.call('ZADD', KEYS[1], 'NX', now, ARGV[1])
return 1
`;

/** KEYS: holders, concluded. ARGV: member, concludedKeepMs. Returns 1 when the member was there. */
export const tenantReleaseScript = `
${now}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
return removed
`;

/**
 * KEYS: holders, lineage, concluded. ARGV: the ids of the tenant's executions that hold capacity
 * (Postgres). When the holders are not current, replaces them with those not concluded meanwhile,
 * and sets the marker and lineage, in one step. Returns how many it holds, or -1 when they were current.
 */
export const tenantRebuildScript = `
${now}
${lineage('KEYS[1]', 'KEYS[2]')}
if current then
  return -1
end
redis.call('DEL', KEYS[1])
local count = 0
for i = 1, #ARGV do
  if not redis.call('ZSCORE', KEYS[3], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now, ARGV[i])
    count = count + 1
  end
end
${markBuilt('KEYS[1]', 'KEYS[2]')}
return count
`;
