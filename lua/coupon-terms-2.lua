--[[
  Writes the issuance terms of one coupon that lua/issue-coupon-3.lua reads, unless newer terms
  are there already; when asked, refuses a stock below the number already issued, atomically with
  the issuances themselves, so no issuance can slip between the check and the new stock.

  KEYS[1]  {coupon:ID}:terms    HASH: version, eventId, stock, startsAt, endsAt, validUntil
  KEYS[2]  {coupon:ID}:issued   SET of the users who hold the coupon

  ARGV[1]  version of these terms (the coupon's terms_version; it grows with every change)
  ARGV[2]  event id
  ARGV[3]  stock
  ARGV[4]  window start, epoch milliseconds, inclusive (the event's start)
  ARGV[5]  window end, epoch milliseconds, exclusive (the event's end)
  ARGV[6]  the coupon's validUntil, epoch milliseconds: no issuance from then on
  ARGV[7]  "1": refuse when more users hold the coupon than the stock allows; "0": write anyway
           (terms loaded from the database are the truth, whatever Redis has issued)

  Returns { code, n }:
    1   written
    0   not written: the stored terms have version n, newer than these
    -1  not written: n users already hold the coupon, more than this stock

  An equal version is written over: it is the same change sent again (a retried change, or terms
  first written before their database commit and now after it).
]]
local stored = tonumber(redis.call("HGET", KEYS[1], "version"))
if stored and stored > tonumber(ARGV[1]) then return { 0, stored } end

if ARGV[7] == "1" then
  local issued = redis.call("SCARD", KEYS[2])
  if issued > tonumber(ARGV[3]) then return { -1, issued } end
end

redis.call("HSET", KEYS[1], "version", ARGV[1], "eventId", ARGV[2], "stock", ARGV[3], "startsAt", ARGV[4],
  "endsAt", ARGV[5], "validUntil", ARGV[6])
return { 1, 0 }
