"""The Lua scripts of `RedisLiveState` (live_redis.py). Redis runs each script alone, start to end: each is one
atomic change (or one consistent read) of the shared live state. Key names are built from ARGV[1], the cluster's
`<prefix>:live`; every number the scripts compare or store arrives as a string from Python (Lua would round
floats to 14 digits when turning them back into strings)."""
from __future__ import annotations

# Shared by the scripts: ARGV[1] is the key prefix (`<prefix>:live`).
LUA_LIBRARY = """
local B = ARGV[1]
local function k(...) return table.concat({B, ...}, ':') end

local function connected(aid)
  local fields = redis.call('HGETALL', k('presence', aid))
  for i = 1, #fields, 2 do
    if tonumber(fields[i + 1]) > 0 and redis.call('EXISTS', k('node', fields[i])) == 1 then return true end
  end
  return false
end

local function agent_row(aid)
  local key = k('agent', aid)
  if redis.call('EXISTS', key) == 0 then return false end
  local f = redis.call('HMGET', key, 'name', 'role', 'status', 'max_chats', 'idle_since', 'departments',
                       'disconnected_at')
  return {tostring(aid), f[1], f[2], f[3], f[4], f[5], f[6], f[7], connected(aid) and 1 or 0,
          redis.call('SCARD', k('held', aid))}
end

local function mark_gone_if_offline(aid, now)
  local key = k('agent', aid)
  if redis.call('EXISTS', key) == 1 and not connected(aid) and redis.call('HGET', key, 'disconnected_at') == '' then
    redis.call('HSET', key, 'disconnected_at', now)
  end
end

local function remember(aid, name, role, max_chats, departments, now)
  local key = k('agent', aid)
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'status', 'away', 'idle_since', now, 'disconnected_at', '')
  end
  redis.call('HSET', key, 'name', name, 'role', role, 'max_chats', max_chats, 'departments', departments)
  redis.call('SADD', k('agents'), aid)
end

local function hold(cid, aid)
  local previous = redis.call('HGET', k('holder'), cid)
  if previous then redis.call('SREM', k('held', previous), cid) end
  redis.call('HSET', k('holder'), cid, aid)
  redis.call('SADD', k('held', aid), cid)
  return previous
end

local function unhold(cid)
  local previous = redis.call('HGET', k('holder'), cid)
  if previous then
    redis.call('SREM', k('held', previous), cid)
    redis.call('HDEL', k('holder'), cid)
  end
  return previous
end

local function track(cid, visitor, status, waiting, aid)
  redis.call('HSET', k('visitor'), cid, visitor)
  if status == 'queued' then
    redis.call('HSET', k('waiting'), cid, waiting)
    unhold(cid)
  elseif status == 'assigned' then
    redis.call('HDEL', k('waiting'), cid)
    hold(cid, aid)
  elseif status == 'closed' then
    redis.call('HDEL', k('waiting'), cid)
    redis.call('HDEL', k('summary'), cid)
    unhold(cid)
    redis.call('HDEL', k('visitor'), cid)
  end
end
"""

SCRIPTS = {
    # B, visitor id, +1 or -1 | the visitor's sockets left, over every node
    # B, aid | returns one row, or every remembered agent's rows without aid
    "agents": """
if ARGV[2] then return agent_row(ARGV[2]) end
local rows = {}
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  local row = agent_row(aid)
  if row then table.insert(rows, row) end
end
return rows
""",
    # B, aid, name, role, max_chats, departments, now
    "remember": """
remember(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return agent_row(ARGV[2])
""",
    # B, aid, name, role, max_chats, departments, now, node, sockets on that node, node ttl ms
    "connect": """
remember(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
redis.call('SET', k('node', ARGV[8]), '1', 'PX', ARGV[10])
redis.call('HSET', k('presence', ARGV[2]), ARGV[8], ARGV[9])
redis.call('HSET', k('agent', ARGV[2]), 'disconnected_at', '')
""",
    # B, aid, node, sockets left on that node, now
    "disconnect": """
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', k('presence', ARGV[2]), ARGV[3], ARGV[4])
else
  redis.call('HDEL', k('presence', ARGV[2]), ARGV[3])
end
mark_gone_if_offline(ARGV[2], ARGV[5])
""",
    # B, aid, status, now | -1 unknown agent, 0 unchanged, 1 changed
    "set_status": """
local key = k('agent', ARGV[2])
if redis.call('EXISTS', key) == 0 then return -1 end
if redis.call('HGET', key, 'status') == ARGV[3] then return 0 end
redis.call('HSET', key, 'status', ARGV[3])
if ARGV[3] == 'online' then redis.call('HSET', key, 'idle_since', ARGV[4]) end
return 1
""",
    # B, aid | the conversations they held
    "forget": """
redis.call('DEL', k('agent', ARGV[2]), k('presence', ARGV[2]))
redis.call('SREM', k('agents'), ARGV[2])
return redis.call('SMEMBERS', k('held', ARGV[2]))
""",
    # B, cid, visitor, status, waiting JSON, aid, only if unknown ('1')
    "track": """
if ARGV[7] == '1' and redis.call('HEXISTS', k('visitor'), ARGV[2]) == 1 then return 0 end
track(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
""",
    # B, cid, aid, visitor, now, recent waits kept | who held it before
    "assigned": """
local cid = ARGV[2]
local waiting = redis.call('HGET', k('waiting'), cid)
if waiting then
  local wait = tonumber(ARGV[5]) - cjson.decode(waiting)[1]
  if wait < 0 then wait = 0 end
  redis.call('LPUSH', k('recent_waits'), string.format('%.6f', wait))
  redis.call('LTRIM', k('recent_waits'), 0, tonumber(ARGV[6]) - 1)
  redis.call('HDEL', k('waiting'), cid)
end
redis.call('HDEL', k('summary'), cid)
local previous = hold(cid, ARGV[3])
redis.call('HSET', k('visitor'), cid, ARGV[4])
if redis.call('EXISTS', k('agent', ARGV[3])) == 1 then
  redis.call('HSET', k('agent', ARGV[3]), 'idle_since', ARGV[5])
end
return previous
""",
    # B, cid, visitor, status, waiting JSON, aid, now | who held it
    "released": """
local holder = redis.call('HGET', k('holder'), ARGV[2])
if holder and ARGV[4] == 'closed' and redis.call('EXISTS', k('agent', holder)) == 1 then
  redis.call('HSET', k('agent', holder), 'idle_since', ARGV[7])
end
track(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return holder
""",
    # B, cid, summary JSON
    "set_summary": """
if redis.call('HEXISTS', k('waiting'), ARGV[2]) == 1 then redis.call('HSET', k('summary'), ARGV[2], ARGV[3]) end
""",
    # B, cid | {'assigned', agent name} / {'queued'} / nil
    "where": """
local holder = redis.call('HGET', k('holder'), ARGV[2])
if holder then return {'assigned', redis.call('HGET', k('agent', holder), 'name')} end
if redis.call('HEXISTS', k('waiting'), ARGV[2]) == 1 then return {'queued'} end
return false
""",
    # B, aid, now: an agent holding chats at start, offline everywhere, starts their grace period now
    "mark_gone_if_offline": """
mark_gone_if_offline(ARGV[2], ARGV[3])
""",
    # B, node, ttl ms, now, then (aid, sockets) pairs: this node's presence is exactly that list
    "heartbeat": """
local node = ARGV[2]
redis.call('SET', k('node', node), '1', 'PX', ARGV[3])
local mine = {}
for i = 5, #ARGV, 2 do mine[ARGV[i]] = ARGV[i + 1] end
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  if mine[aid] then
    redis.call('HSET', k('presence', aid), node, mine[aid])
    redis.call('HSET', k('agent', aid), 'disconnected_at', '')
  elseif redis.call('HDEL', k('presence', aid), node) == 1 then
    mark_gone_if_offline(aid, ARGV[4])
  end
end
""",
    # B, node, now: this node leaves (shutdown); its agents are offline unless connected elsewhere
    "leave": """
redis.call('DEL', k('node', ARGV[2]))
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  if redis.call('HDEL', k('presence', aid), ARGV[2]) == 1 then mark_gone_if_offline(aid, ARGV[3]) end
end
""",
    # B, now: drop presence counted by nodes whose key expired; their agents, offline now, start their grace period
    "reap": """
local reaped = 0
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  local fields = redis.call('HKEYS', k('presence', aid))
  local dropped = false
  for _, node in ipairs(fields) do
    if redis.call('EXISTS', k('node', node)) == 0 then
      redis.call('HDEL', k('presence', aid), node)
      dropped = true
    end
  end
  if dropped then
    mark_gone_if_offline(aid, ARGV[2])
    reaped = reaped + 1
  end
end
return reaped
""",
    # B, node, ttl ms | 1 when this node leads the timed jobs (it took or renewed the leader key)
    "lead": """
local current = redis.call('GET', k('leader'))
if current == ARGV[2] then
  redis.call('PEXPIRE', k('leader'), ARGV[3])
  return 1
end
if not current then
  redis.call('SET', k('leader'), ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
""",
}

# A sliding-window log (KEYS[1]): drop events at or before the cutoff, refuse at the limit, else record one; -1
# while the state is not loaded (KEYS[2] missing). ARGV: cutoff (now - window), now, limit, a unique member, the
# window in ms (the key expires when idle that long).
ALLOW_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""
