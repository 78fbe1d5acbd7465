/**
 * Lua scripts for capacity slots (DESIGN §5). Each runs atomically in Redis, and all of them use
 * Redis' own clock (TIME) so that workers with skewed clocks agree on lease expiry.
 *
 * Keys per agent (one hash tag, so a cluster keeps them on one shard):
 *   KEYS[1] leases  — sorted set: member = execution id, score = lease expiry (ms)
 *   KEYS[2] waiting — sorted set: member = execution id, score = arrival number (FIFO order)
 *   KEYS[3] seen    — sorted set: member = execution id, score = last time the waiter polled
 *   KEYS[4] arrivals — counter numbering queue arrivals (acquire only)
 *   KEYS[5] concluded — sorted set: member = execution id, score = when it was released (acquire: KEYS[5], release: KEYS[4])
 *
 * The leases key also holds one marker member (`initializedMarker`, score +inf) once its leases were
 * built from the executions that hold capacity (Postgres: see rebuildScript). The marker lives and dies
 * with the leases themselves: a restart without persistence, FLUSHALL, a failover to a replica that never
 * had the key, or an eviction of the key leaves no marker, and acquire refuses until leases are rebuilt.
 */

/** The member of a leases key that says its leases are complete; never an execution id (those have no `~`). */
export const initializedMarker = '~lifeline:initialized';

const now = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * ARGV: member, capacity, leaseMs, mode ('skip' | 'queue'), waiterTtlMs. Returns 1 when the member
 * holds a lease afterwards, else 0; -1 (nothing changed) while the leases key has no marker: Redis
 * lost the leases, and they must be rebuilt from Postgres before anyone is admitted. Expired leases still count: only the reconciler may release them.
 * A member already released (its execution concluded) gets nothing and no queue place: a cancelled
 * wait whose cancellation has not reached it yet must never take a slot for a finished execution.
 */
export const acquireScript = `
${now}
local member, capacity, leaseMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local queue, waiterTtl = ARGV[4] == 'queue', tonumber(ARGV[5])
if redis.call('ZSCORE', KEYS[5], member) then
  return 0
end
if not redis.call('ZSCORE', KEYS[1], '${initializedMarker}') then
  return -1
end
if redis.call('ZSCORE', KEYS[1], member) then
  redis.call('ZADD', KEYS[1], now + leaseMs, member)
  return 1
end
-- A waiter that stopped polling (its worker died) loses its place; its retry enqueues it again.
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - waiterTtl)
for _, m in ipairs(stale) do
  redis.call('ZREM', KEYS[2], m)
  redis.call('ZREM', KEYS[3], m)
end
local free = capacity - (redis.call('ZCARD', KEYS[1]) - 1)
if queue then
  if not redis.call('ZSCORE', KEYS[2], member) then
    -- A counter, not the clock: two arrivals in one millisecond keep their order.
    redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), member)
  end
  redis.call('ZADD', KEYS[3], now, member)
  if redis.call('ZRANK', KEYS[2], member) < free then
    redis.call('ZREM', KEYS[2], member)
    redis.call('ZREM', KEYS[3], member)
    redis.call('ZADD', KEYS[1], now + leaseMs, member)
    return 1
  end
  return 0
end
-- A 'skip' start never jumps ahead of executions already waiting in the queue.
if free - redis.call('ZCARD', KEYS[2]) > 0 then
  redis.call('ZADD', KEYS[1], now + leaseMs, member)
  return 1
end
return 0
`;

/**
 * ARGV: member, leaseMs, mode ('renew' | 'restore'). `renew` extends a lease the member holds and
 * never creates one: a late renewal from a run whose slot was already released must not bring the
 * slot back. `restore` also re-creates a lease that vanished (Redis flushed or restarted); only the
 * reconciler uses it, after Temporal confirmed the execution's workflow is running. Returns 1 when
 * the lease was there.
 */
export const renewScript = `
${now}
local existed = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0
if existed == 1 or ARGV[3] == 'restore' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
return existed
`;

/**
 * ARGV: member, concludedKeepMs. Removes the member's lease and queue place and records it as
 * concluded for concludedKeepMs (longer than any late try of its wait), forgetting older ones.
 * Returns 1 if it held a lease.
 */
export const releaseScript = `
${now}
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[2]))
return removed
`;

/**
 * KEYS: leases, concluded. ARGV: leaseMs, then the ids of the executions that hold capacity (read
 * from Postgres). When the leases key has no marker, gives each of them not concluded meanwhile a
 * lease (keeping any lease still there) and sets the marker, in one step: no acquire runs between.
 * Returns the number of leases it created, or -1 when the marker was there (nothing to rebuild).
 */
export const rebuildScript = `
${now}
if redis.call('ZSCORE', KEYS[1], '${initializedMarker}') then
  return -1
end
local created = 0
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    created = created + redis.call('ZADD', KEYS[1], 'NX', now + tonumber(ARGV[1]), ARGV[i])
  end
end
redis.call('ZADD', KEYS[1], '+inf', '${initializedMarker}')
return created
`;
