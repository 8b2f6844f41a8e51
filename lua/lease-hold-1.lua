--[[
  Takes a lease, or renews it when the caller already holds it. A lease is a key whose value names
  its holder and that expires unless renewed: at most one holder at a time, and a holder that stops
  renewing (crashed, cut off) loses it after the time to live.

  KEYS[1]  the lease key

  ARGV[1]  holder token, unique per holder (e.g. host, process id and a random id)
  ARGV[2]  time to live in milliseconds, counted from now

  Returns:
    1  the caller holds the lease for ARGV[2] ms from now
    0  another holder has it; nothing was changed
]]
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then return 1 end
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
