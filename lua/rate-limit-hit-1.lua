--[[
  Counts one hit against a fixed-window counter (login attempts per email, per client address).

  KEYS[1]  the counter, e.g. login-attempts:address:203.0.113.7
  ARGV[1]  window length in milliseconds: the counter expires this long after its first hit

  Returns {count, ttl}
    count  hits in the current window, this one included
    ttl    milliseconds until the window ends and the counter starts again from zero

  INCR and PEXPIRE run together, so a counter can never be left without its expiry (which would
  lock the email or address out for good).
]]
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
