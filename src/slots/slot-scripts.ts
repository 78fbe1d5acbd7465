import { defaultTenant } from '../domain/tenants.js';

/**
 * Lua scripts for capacity slots (DESIGN: Capacity slots, and Tenants). Each runs atomically in
 * Redis, and all of them use Redis' own clock (TIME) so that workers with skewed clocks agree on
 * lease expiry.
 *
 * Keys per agent (one hash tag, so a cluster keeps them on one shard):
 *   leases    — sorted set: member = execution id, score = lease expiry (ms)
 *   waiting   — sorted set: member = execution id, score = arrival number (first in, first out within a tenant)
 *   seen      — sorted set: member = execution id, score = last time the waiter polled
 *   arrivals  — counter numbering queue arrivals
 *   concluded — sorted set: member = execution id, score = when it was released
 *   lineage   — string: the replication id of the Redis the leases were built on
 *   owners    — hash: member (holder or waiter) = "tenant|acquired at (ms), 0 while waiting"
 *   byTenant  — sorted set of "tenant:arrival:member" (all scores 0): each tenant's waiters in order, by ZRANGEBYLEX
 *   tenants   — hash: tenant = "weight|priority|per-agent limit (0: none)|blocked until (ms)", as its waiters last said
 *   usage     — hash: tenant = "slot time (ms, decayed)|when it was brought up to date (ms)"; field `~hold`: the average hold (ms)
 *   held      — hash: tenant = "leases it holds|the `when` of its usage entry then"; fields `~leases` (the
 *               leases' ZCARD then) and `~recounted` (ms): a count per tenant, so that no try walks the leases
 *
 * Members without an owner (a lease or a wait from a version before tenants) belong to `default`.
 * Keys beyond the declared ones are never touched: the per-tenant order lives in one sorted set.
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

export const now = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Sets \`current\`: the leases key (\`leases\`) holds the marker, built on this very Redis dataset
 * (\`lineage\` holds this server's replication id). A server that refuses INFO (a managed service)
 * has the id \`unknown\`: only the marker then tells, as it did before lineages.
 */
export const lineage = (leases: string, lineageKey: string) => `
local info = redis.pcall('INFO', 'replication')
local replid = type(info) == 'string' and string.match(info, 'master_replid:(%x+)') or 'unknown'
local current = redis.call('ZSCORE', ${leases}, '${initializedMarker}') and redis.call('GET', ${lineageKey}) == replid`;

/** Marks `key` as complete, built on this very Redis dataset: what `lineage` checks. */
export const markBuilt = (key: string, lineageKey: string) => `
redis.call('ZADD', ${key}, '+inf', '${initializedMarker}')
redis.call('SET', ${lineageKey}, replid)`;

/**
 * Functions over the leases, owners, usage, byTenant and held keys, named \`leases\`, \`owners\`,
 * \`usage\`, \`byTenant\`, \`held\` by the script that includes them. Slot time is decayed with a half-life (\`halfLife\`, ms): a
 * tenant's share is judged by its recent use, so one that was idle gets its share back at once
 * instead of paying for its neighbour's past (DESIGN: Tenants).
 */
const tenantFunctions = `
local recountMs = 60000
local function ownerOf(member)
  local o = redis.call('HGET', owners, member)
  if not o then return '${defaultTenant}', 0 end
  local tenant, since = string.match(o, '^([^|]*)|(%d+)$')
  return tenant, tonumber(since)
end
local function usageStamp(tenant)
  local u = redis.call('HGET', usage, tenant)
  return u and string.match(u, '|(.*)$') or '-'
end
-- Counts every tenant's leases anew: when a writer that keeps no counts (an earlier version, a
-- restore, a rebuild) changed the leases, and at least every \`recountMs\` in case one slipped by.
local function recount()
  local counts = {}
  for _, m in ipairs(redis.call('ZRANGE', leases, 0, -1)) do
    if m ~= '${initializedMarker}' then
      local tenant = ownerOf(m)
      counts[tenant] = (counts[tenant] or 0) + 1
    end
  end
  redis.call('DEL', held)
  for tenant, n in pairs(counts) do
    redis.call('HSET', held, tenant, n .. '|' .. usageStamp(tenant))
  end
  redis.call('HSET', held, '~leases', redis.call('ZCARD', leases), '~recounted', now)
end
-- The leases \`tenant\` holds. A count is trusted while the leases' size is the one it was kept
-- with and the tenant's usage entry is the one written with it: every writer of a lease that
-- changes a tenant's count brings its usage up to date, so one that does not keep counts shows.
-- The leases' size is checked once per script: its own changes keep the counts as it goes.
local sizeChecked = false
local function heldOf(tenant)
  if not sizeChecked then
    local kept = redis.call('HMGET', held, '~leases', '~recounted')
    if tonumber(kept[1]) ~= redis.call('ZCARD', leases) or (tonumber(kept[2]) or 0) < now - recountMs then
      recount()
    end
    sizeChecked = true
  end
  local kept = redis.call('HGET', held, tenant)
  local n, stamp = string.match(kept or '0|-', '^(%d+)|(.*)$')
  if kept and stamp ~= usageStamp(tenant) then
    recount()
    n = string.match(redis.call('HGET', held, tenant) or '0|-', '^(%d+)|')
  end
  return tonumber(n)
end
-- Called just after the tenant's count of leases changed by \`delta\` (its usage brought up to date just before).
local function countHeld(tenant, before, delta)
  redis.call('HSET', held, tenant, math.max(0, before + delta) .. '|' .. usageStamp(tenant), '~leases', redis.call('ZCARD', leases))
end
-- A tenant's decayed slot time now, given the slots it held since it was last brought up to date.
local function usageOf(tenant, held)
  local u = redis.call('HGET', usage, tenant)
  if not u then return 0 end
  local used, at = string.match(u, '^([^|]*)|(.*)$')
  local decay = math.exp(-math.log(2) * math.max(0, now - tonumber(at)) / halfLife)
  return tonumber(used) * decay + held * (1 - decay) * halfLife / math.log(2)
end
-- Called just before the tenant's count of held slots changes.
local function bringUpToDate(tenant, held)
  redis.call('HSET', usage, tenant, string.format('%.3f|%d', usageOf(tenant, held), now))
end
local function queueEntry(tenant, arrival, member)
  return tenant .. ':' .. string.format('%015d', arrival) .. ':' .. member
end
local function leaveQueue(member)
  local arrival = redis.call('ZSCORE', waiting, member)
  if arrival then
    redis.call('ZREM', byTenant, queueEntry(ownerOf(member), tonumber(arrival), member))
    redis.call('ZREM', waiting, member)
    redis.call('HDEL', owners, member)
  end
  redis.call('ZREM', seen, member)
end`;

/**
 * ARGV: member, capacity, leaseMs, mode ('skip' | 'queue'), waiterTtlMs, tenant, weight, priority
 * (1 first), per-agent limit (0: none), blocked ('1': the tenant is at its limit across agents),
 * halfLifeMs. Returns 1 when the member holds a lease afterwards, else 0; -1 (nothing changed)
 * while the leases key has no marker or another lineage: Redis lost the leases, or may have, and
 * they must be rebuilt from Postgres before anyone is admitted. Expired leases still count: only
 * the reconciler may release them. A member already released (its execution concluded) gets
 * nothing and no queue place: a cancelled wait whose cancellation has not reached it yet must never
 * take a slot for a finished execution.
 *
 * The free slots go, one by one, to the waiting tenant of the best priority, then of the least
 * recent slot time per unit of weight (its decayed slot time plus an average hold for each slot it
 * holds now, so several slots freed at once spread), then whose first waiter came first; a tenant
 * at its per-agent limit, or blocked, is passed over; within a tenant, first in, first out. The
 * member is admitted when one of those goes to it. A \`skip\` start takes part as if it stood last
 * in its tenant's queue, so it never jumps ahead of its own tenant's waiters or a fairer tenant's.
 */
export const acquireScript = `
${now}
local leases, waiting, seen, arrivals, concluded, lineageKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local owners, byTenant, tenants, usage, held = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local member, capacity, leaseMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local queue, waiterTtl = ARGV[4] == 'queue', tonumber(ARGV[5])
local tenant, weight, priority, limit = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local blocked, halfLife = ARGV[10] == '1', tonumber(ARGV[11])
${tenantFunctions}
if redis.call('ZSCORE', concluded, member) then
  return 0
end
${lineage('leases', 'lineageKey')}
if not current then
  return -1
end
if redis.call('ZSCORE', leases, member) then
  redis.call('ZADD', leases, now + leaseMs, member)
  return 1
end
redis.call('HSET', tenants, tenant, string.format('%s|%d|%d|%d', ARGV[7], priority, limit, blocked and now + waiterTtl or 0))
-- A waiter that stopped polling (its worker died) loses its place; its retry enqueues it again.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - waiterTtl)) do
  leaveQueue(m)
end
if queue then
  if not redis.call('ZSCORE', waiting, member) then
    -- A counter, not the clock: two arrivals in one millisecond keep their order.
    local arrival = redis.call('INCR', arrivals)
    redis.call('ZADD', waiting, arrival, member)
    redis.call('HSET', owners, member, tenant .. '|0')
    redis.call('ZADD', byTenant, 0, queueEntry(tenant, arrival, member))
  end
  redis.call('ZADD', seen, now, member)
end
-- Waits recorded by a version before tenants have no entry in byTenant: they join as \`default\`.
if redis.call('ZCARD', byTenant) ~= redis.call('ZCARD', waiting) then
  redis.call('DEL', byTenant)
  local flat = redis.call('ZRANGE', waiting, 0, -1, 'WITHSCORES')
  for i = 1, #flat, 2 do
    redis.call('ZADD', byTenant, 0, queueEntry(ownerOf(flat[i]), tonumber(flat[i + 1]), flat[i]))
  end
end
local free = capacity - (redis.call('ZCARD', leases) - 1)
if free <= 0 then
  return 0
end
local avgHold = tonumber(redis.call('HGET', usage, '~hold') or '1000')
-- The waiter at a contender's position \`next\` (member, arrival); a skip start stands after its tenant's last.
local function waiterAt(c)
  for _ = 1, 100 do
    local entry = redis.call('ZRANGEBYLEX', byTenant, '[' .. c.name .. ':', '(' .. c.name .. ';', 'LIMIT', c.next, 1)[1]
    if not entry then break end
    local arrival, m = string.match(entry, ':(%d+):(.*)$')
    if redis.call('ZSCORE', waiting, m) then return m, tonumber(arrival) end
    -- Left by a version before tenants, whose release knew no byTenant.
    redis.call('ZREM', byTenant, entry)
  end
  if not queue and c.name == tenant then return member, math.huge end
  return nil
end
-- The contenders that may take the next slot, best first: a binary heap on
-- (priority, slot time per unit of weight, arrival), so a pick costs log(tenants), not tenants.
local heap = {}
local function better(a, b)
  if a.key[1] ~= b.key[1] then return a.key[1] < b.key[1] end
  if a.key[2] ~= b.key[2] then return a.key[2] < b.key[2] end
  return a.key[3] < b.key[3]
end
local function push(c)
  local i = #heap + 1
  heap[i] = c
  while i > 1 and better(heap[i], heap[math.floor(i / 2)]) do
    local up = math.floor(i / 2)
    heap[i], heap[up] = heap[up], heap[i]
    i = up
  end
end
local function pop()
  local top = heap[1]
  heap[1] = heap[#heap]
  heap[#heap] = nil
  local i = 1
  while true do
    local l, r, best = 2 * i, 2 * i + 1, i
    if heap[l] and better(heap[l], heap[best]) then best = l end
    if heap[r] and better(heap[r], heap[best]) then best = r end
    if best == i then return top end
    heap[i], heap[best] = heap[best], heap[i]
    i = best
  end
end
-- A contender with a waiter (\`m\`, its arrival) takes part while it is under its per-agent limit.
local function offer(c, m, arrival)
  if not m or (c.limit ~= 0 and c.held >= c.limit) then return end
  c.member = m
  c.key = { c.priority, (c.used + c.held * avgHold) / c.weight, arrival }
  push(c)
end
-- Each tenant that may take a slot: its settings, its slot time, and where its next waiter is. A
-- tenant with no waiter left is forgotten here (its next try brings its settings back), so a pick
-- costs the tenants that wait, not every tenant that ever used the agent.
local settings = redis.call('HGETALL', tenants)
for i = 1, #settings, 2 do
  local name = settings[i]
  local w, p, l, blockedUntil = string.match(settings[i + 1], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)$')
  if tonumber(blockedUntil) <= now then
    local c = { name = name, weight = tonumber(w), priority = tonumber(p), limit = tonumber(l), next = 0 }
    local m, arrival = waiterAt(c)
    if m then
      c.held = heldOf(name)
      c.used = usageOf(name, c.held)
      offer(c, m, arrival)
    elseif name ~= tenant then
      redis.call('HDEL', tenants, name)
    end
  end
end
for _ = 1, free do
  local best = pop()
  if not best then
    return 0
  end
  if best.member == member then
    local before = heldOf(tenant)
    bringUpToDate(tenant, before)
    leaveQueue(member)
    redis.call('HSET', owners, member, tenant .. '|' .. now)
    redis.call('ZADD', leases, now + leaseMs, member)
    countHeld(tenant, before, 1)
    return 1
  end
  best.next = best.next + 1
  best.held = best.held + 1
  offer(best, waiterAt(best))
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
 * KEYS: leases, waiting, seen, concluded, owners, byTenant, usage, held. ARGV: member, concludedKeepMs,
 * halfLifeMs. Removes the member's lease and queue place and records it as concluded for
 * concludedKeepMs (longer than any late try of its wait), forgetting older ones; its tenant's slot
 * time is brought up to date first, and its hold joins the agent's average. Returns 1 if it held a lease.
 */
export const releaseScript = `
${now}
local leases, waiting, seen, concluded, owners, byTenant, usage, held = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local member, halfLife = ARGV[1], tonumber(ARGV[3])
${tenantFunctions}
local removed = 0
if redis.call('ZSCORE', leases, member) then
  local tenant, since = ownerOf(member)
  local before = heldOf(tenant)
  bringUpToDate(tenant, before)
  if since > 0 then
    local average = tonumber(redis.call('HGET', usage, '~hold') or (now - since))
    redis.call('HSET', usage, '~hold', string.format('%.0f', average * 0.9 + (now - since) * 0.1))
  end
  redis.call('ZREM', leases, member)
  countHeld(tenant, before, -1)
  removed = 1
end
leaveQueue(member)
redis.call('HDEL', owners, member)
redis.call('ZADD', concluded, now, member)
redis.call('ZREMRANGEBYSCORE', concluded, '-inf', now - tonumber(ARGV[2]))
return removed
`;

/** KEYS: leases, lineage. Returns 1 when the leases are current (see \`lineage\`), else 0. */
export const currentScript = `
${lineage('KEYS[1]', 'KEYS[2]')}
return current and 1 or 0
`;

/**
 * KEYS: leases, concluded, lineage, owners, held. ARGV: leaseMs, then for each execution that holds
 * capacity (read from Postgres) its id and its tenant. When the leases are not current, replaces
 * them with one lease for each of those not concluded meanwhile and sets the marker and lineage, in
 * one step: no acquire runs between. Replaced, not merged: a promoted replica's leases are a
 * snapshot that may still count executions the old master released. An admission whose lease is
 * dropped before its row said so finds it missing in its check after that write (slotStillHeld) and
 * acquires again against the rebuilt count. The counts per tenant go with the leases they counted.
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
for i = 2, #ARGV, 2 do
  if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
      created = created + 1
    end
    holders[ARGV[i]] = ARGV[i + 1]
  end
end
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not holders[member] then
    redis.call('HDEL', KEYS[4], member)
  end
end
redis.call('DEL', KEYS[1], KEYS[5])
for member, tenant in pairs(holders) do
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), member)
  local owner = redis.call('HGET', KEYS[4], member)
  if not owner or string.match(owner, '^([^|]*)') ~= tenant then
    redis.call('HSET', KEYS[4], member, tenant .. '|' .. now)
  end
end
${markBuilt('KEYS[1]', 'KEYS[3]')}
return created
`;
