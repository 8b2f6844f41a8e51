--[[
  Gives a lease up, but only if the caller holds it: a holder whose lease expired and was taken by
  another must not delete the new holder's lease.

  KEYS[1]  the lease key

  ARGV[1]  holder token, as given to lease-hold-1.lua

  Returns:
    1  the lease was the caller's and is deleted
    0  the lease is another holder's or nobody's; nothing was changed
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
