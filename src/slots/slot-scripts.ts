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
 *   KEYS[6] lineage — string: the replication id of the Redis the leases were built on (acquire only)
 *
 * The leases key also holds one marker member (`initializedMarker`, score +inf) once its leases were
 * built from the executions that hold capacity (Postgres: see rebuildScript). The marker lives and dies
 * with the leases themselves: a restart without persistence, FLUSHALL, a failover to a replica that never
 * had the key, or an eviction of the key leaves no marker, and acquire refuses until leases are rebuilt.
 * A failover to a replica that lagged behind keeps the marker but can lose leases the old master
 * acknowledged; a promoted replica takes a new replication id (`master_replid`), so the lineage
 * key no longer matches it and acquire refuses the same way until the leases are rebuilt.
 */

/** The member of a leases key that says its leases are complete; never an execution id (those have no `~`). */
export const initializedMarker = '~lifeline:initialized';

const now = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Sets \`current\`: the leases key (\`leases\`) holds the marker, built on this very Redis dataset
 * (\`lineage\` holds this server's replication id). A server that refuses INFO (a managed service)
 * has the id \`unknown\`: only the marker then tells, as it did before lineages.
 */
const lineage = (leases: string, lineageKey: string) => `
local info = redis.pcall('INFO', 'replication')
local replid = type(info) == 'string' and string.match(info, 'master_replid:(%x+)') or 'unknown'
local current = redis.call('ZSCORE', ${leases}, '${initializedMarker}') and redis.call('GET', ${lineageKey}) == replid`;

/**
 * ARGV: member, capacity, leaseMs, mode ('skip' | 'queue'), waiterTtlMs. Returns 1 when the member
 * holds a lease afterwards, else 0; -1 (nothing changed) while the leases key has no marker or
 * another lineage: Redis lost the leases, or may have, and they must be rebuilt from Postgres before anyone is admitted. Expired leases still count: only the reconciler may release them.
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
${lineage('KEYS[1]', 'KEYS[6]')}
if not current then
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

/** KEYS: leases, lineage. Returns 1 when the leases are current (see \`lineage\`), else 0. */
export const currentScript = `
${lineage('KEYS[1]', 'KEYS[2]')}
return current and 1 or 0
`;

/**
 * KEYS: leases, concluded, lineage. ARGV: leaseMs, then the ids of the executions that hold capacity
 * (read from Postgres). When the leases are not current, replaces them with one lease for each of
 * those not concluded meanwhile and sets the marker and lineage, in one step: no acquire runs between.
 * Replaced, not merged: a promoted replica's leases are a snapshot that may still count executions
 * the old master released. An admission whose lease is dropped before its row said so finds it
 * missing in its check after that write (slotStillHeld) and acquires again against the rebuilt count.
 * Returns the number of leases it created that were not there, or -1 when they were current.
 */
export const rebuildScript = `
${now}
${lineage('KEYS[1]', 'KEYS[3]')}
if current then
  return -1
end
local created = 0
local holders = {}
for i = 2, #ARGV do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
      created = created + 1
    end
    holders[#holders + 1] = ARGV[i]
  end
end
redis.call('DEL', KEYS[1])
for _, member in ipairs(holders) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), member)
end
redis.call('ZADD', KEYS[1], '+inf', '${initializedMarker}')
redis.call('SET', KEYS[3], replid)
return created
`;
