--[[
  First-come-first-served issuance of one coupon to one user, as one atomic step: the window, the
  duplicate check, the stock check, the acceptance and its outbox entry either all happen or none.

  KEYS[1]  {coupon:ID}:issued   SET of the ids of users who hold the coupon; SCARD = issued count
  KEYS[2]  {coupon:ID}:outbox   STREAM of accepted issuances, published to Kafka by the relay

  ARGV[1]  user id
  ARGV[2]  now, epoch milliseconds (the caller's clock, so every replica judges the window alike)
  ARGV[3]  window start, epoch milliseconds, inclusive
  ARGV[4]  window end, epoch milliseconds, exclusive
  ARGV[5]  stock: the most users that may hold the coupon
  ARGV[6]  coupon id
  ARGV[7]  event id
  ARGV[8]  request id ("" when none), carried to Kafka so a row can be traced to its request

  Returns { code, outbox entry id or "" }:
    1  ISSUED       the user was added and the issuance appended to the outbox
    2  DUPLICATE    the user already holds the coupon (checked before the stock, so a holder is told
                    so even after the coupon sold out)
    3  SOLD_OUT     the stock is gone
    4  NOT_OPEN     now is before the window
    5  CLOSED       now is at or after the window's end

  Both keys carry the hash tag {coupon:ID}, so the script also runs on Redis Cluster.
]]
local now = tonumber(ARGV[2])
if now < tonumber(ARGV[3]) then return { 4, "" } end
if now >= tonumber(ARGV[4]) then return { 5, "" } end

if redis.call("SISMEMBER", KEYS[1], ARGV[1]) == 1 then return { 2, "" } end
if redis.call("SCARD", KEYS[1]) >= tonumber(ARGV[5]) then return { 3, "" } end

redis.call("SADD", KEYS[1], ARGV[1])
local id = redis.call("XADD", KEYS[2], "*", "couponId", ARGV[6], "eventId", ARGV[7], "userId", ARGV[1],
  "issuedAt", ARGV[2], "requestId", ARGV[8])
return { 1, id }
