--[[
  Settles entries of one coupon's outbox that Kafka has acknowledged: acknowledges them for the
  relay's consumer group and removes them from the stream.

  KEYS[1]  {coupon:ID}:outbox   the outbox stream
  ARGV[1]  the relay's consumer group, the stream's only reader
  ARGV[2…] ids of the entries Kafka has acknowledged

  Every entry below the group's oldest pending one, and up to the last one delivered to it, has
  been acknowledged, so the stream is trimmed below that point (XTRIM MINID): whole nodes of the
  stream at a time, where XDEL looks each id up in its node and marks it deleted (about three times
  the work, with Redis answering nobody meanwhile). Only acknowledged ids above that point, behind
  an entry another relay still holds, are deleted one by one. Entries not yet delivered and
  entries still pending (being relayed, or left by a relay that died, for another to claim) stay.

  Returns the number of entries acknowledged.
]]
local function parseId(id)
  local ms, seq = string.match(id, "^(%d+)-(%d+)$")
  return tonumber(ms), tonumber(seq)
end

local acknowledged = redis.call("XACK", KEYS[1], ARGV[1], unpack(ARGV, 2))

local pending = redis.call("XPENDING", KEYS[1], ARGV[1])
local floorMs, floorSeq
if pending[1] > 0 then
  floorMs, floorSeq = parseId(pending[2])
else
  for _, group in ipairs(redis.call("XINFO", "GROUPS", KEYS[1])) do
    local fields = {}
    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
    if fields["name"] == ARGV[1] then
      floorMs, floorSeq = parseId(fields["last-delivered-id"])
      -- MINID keeps ids at or above the floor: the one after the last delivered entry.
      floorSeq = floorSeq + 1
    end
  end
end
redis.call("XTRIM", KEYS[1], "MINID", string.format("%d-%d", floorMs, floorSeq))

-- With nothing pending the floor is past every delivered id, so nothing acknowledged is above it.
if pending[1] > 0 then
  local above = {}
  for i = 2, #ARGV do
    local ms, seq = parseId(ARGV[i])
    if ms > floorMs or (ms == floorMs and seq >= floorSeq) then above[#above + 1] = ARGV[i] end
  end
  if #above > 0 then redis.call("XDEL", KEYS[1], unpack(above)) end
end
return acknowledged
