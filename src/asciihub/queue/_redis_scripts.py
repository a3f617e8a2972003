"""Lua scripts of the Redis Streams backend; each runs atomically on the server.

A stream entry has one field, ``m``: the packed message (a JSON header line, then the
body). "Owned" means the entry is in the group's pending list under this consumer,
so a consumer whose lease was taken over cannot ack, retry or extend it any more.
"""

from __future__ import annotations

_OWNED = """
local function owned(stream, group, consumer, eid)
  local p = redis.call('XPENDING', stream, group, eid, eid, 1, consumer)
  return p[1] ~= nil
end
"""

RECEIVE = """
-- KEYS: stream, delayed zset, delayed hash, claim cursor
-- ARGV: group, consumer, count, min idle ms, now ms
local stream, zkey, hkey, ckey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', ARGV[5], 'LIMIT', 0, 1000)
if #due > 0 then
  local packed = redis.call('HMGET', hkey, unpack(due))
  for i = 1, #due do
    if packed[i] then redis.call('XADD', stream, '*', 'm', packed[i]) end
  end
  redis.call('HDEL', hkey, unpack(due))
  redis.call('ZREM', zkey, unpack(due))
end
local out = {}
local cursor = redis.call('GET', ckey) or '0-0'
local claimed = redis.call('XAUTOCLAIM', stream, group, consumer, ARGV[4], cursor,
  'COUNT', count)
redis.call('SET', ckey, claimed[1])
for _, entry in ipairs(claimed[2]) do
  local p = redis.call('XPENDING', stream, group, entry[1], entry[1], 1)
  out[#out + 1] = {entry[1], entry[2][2], p[1][4]}
end
local left = count - #out
if left > 0 then
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', left,
    'STREAMS', stream, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do out[#out + 1] = {entry[1], entry[2][2], 1} end
  end
end
return {#claimed[3], out}
"""

ACK = (
    _OWNED
    + """
-- KEYS: stream; ARGV: group, consumer, entry ids...
local mine = {}
for i = 3, #ARGV do
  if owned(KEYS[1], ARGV[1], ARGV[2], ARGV[i]) then mine[#mine + 1] = ARGV[i] end
end
if #mine > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(mine))
  redis.call('XDEL', KEYS[1], unpack(mine))
end
return #mine
"""
)

REQUEUE = (
    _OWNED
    + """
-- KEYS: stream, delayed zset, delayed hash
-- ARGV: group, consumer, now ms, then (entry id, message id, due ms, packed) per message
local n = 0
for i = 4, #ARGV, 4 do
  local eid, mid, due, packed = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if owned(KEYS[1], ARGV[1], ARGV[2], eid) then
    redis.call('XACK', KEYS[1], ARGV[1], eid)
    redis.call('XDEL', KEYS[1], eid)
    if tonumber(due) <= tonumber(ARGV[3]) then
      redis.call('XADD', KEYS[1], '*', 'm', packed)
    else
      redis.call('ZADD', KEYS[2], due, mid)
      redis.call('HSET', KEYS[3], mid, packed)
    end
    n = n + 1
  end
end
return n
"""
)

DEAD_LETTER = (
    _OWNED
    + """
-- KEYS: stream, dead stream
-- ARGV: group, consumer, code, message, failed at ms, then (entry id, packed) pairs
local n = 0
for i = 6, #ARGV, 2 do
  if owned(KEYS[1], ARGV[1], ARGV[2], ARGV[i]) then
    redis.call('XACK', KEYS[1], ARGV[1], ARGV[i])
    redis.call('XDEL', KEYS[1], ARGV[i])
    redis.call('XADD', KEYS[2], '*', 'm', ARGV[i + 1], 'code', ARGV[3], 'error', ARGV[4],
      'at', ARGV[5])
    n = n + 1
  end
end
return n
"""
)

EXTEND = (
    _OWNED
    + """
-- KEYS: stream; ARGV: group, consumer, entry ids...
-- XCLAIM with JUSTID resets the idle time without counting a delivery.
local kept = {}
for i = 3, #ARGV do
  if owned(KEYS[1], ARGV[1], ARGV[2], ARGV[i]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept[#kept + 1] = ARGV[i]
  end
end
return kept
"""
)

DEAD_RETRY = """
-- KEYS: dead stream, stream; ARGV: (dead entry id, packed) pairs
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'm', ARGV[i + 1])
    n = n + 1
  end
end
return n
"""

DEAD_PURGE_ALL = """
-- KEYS: dead stream
local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
"""

STATS = """
-- KEYS: stream, delayed zset, dead stream; ARGV: group
local length = redis.call('XLEN', KEYS[1])
local pending = 0
local summary = redis.pcall('XPENDING', KEYS[1], ARGV[1])
if type(summary) == 'table' and not summary.err then pending = summary[1] end
return {length, pending, redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[3])}
"""
