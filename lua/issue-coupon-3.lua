--[[
  First-come-first-served issuance of one coupon to one user, as one atomic step: the deadline,
  the coupon's terms (event, window, validity, stock), the duplicate check, the stock check, the
  acceptance and its outbox entry either all happen or none.

  KEYS[1]  {coupon:ID}:terms    HASH of the terms in force (lua/coupon-terms-2.lua writes it)
  KEYS[2]  {coupon:ID}:issued   SET of the ids of users who hold the coupon; SCARD = issued count
  KEYS[3]  {coupon:ID}:outbox   STREAM of accepted issuances, published to Kafka by the relay

  ARGV[1]  user id
  ARGV[2]  event id the client named
  ARGV[3]  coupon id
  ARGV[4]  now, epoch milliseconds (the caller's clock, so every replica judges the window alike)
  ARGV[5]  deadline, epoch milliseconds: the moment the caller stops waiting for this answer
  ARGV[6]  request id ("" when none), carried to Kafka so a row can be traced to its request
  ARGV[7]  the request's W3C traceparent ("" or absent when it is not traced), carried likewise

  Returns { code, detail }:
    1  ISSUED        detail: the outbox entry id
    2  DUPLICATE     the user already holds the coupon (checked before the stock, so a holder is
                     told so even after the coupon sold out)
    3  SOLD_OUT      the stock is gone
    4  NOT_OPEN      detail: window start (ms); now is before it
    5  CLOSED        detail: window end (ms); now is at or after it
    6  NO_TERMS      the terms are not in Redis yet: the caller loads and writes them, then retries
    7  OTHER_EVENT   the coupon belongs to another event
    8  EXPIRED       detail: the coupon's validUntil (ms); a coupon past its validity is not issued
    9  LATE          Redis ran the script after the deadline (a command queued or re-sent while
                     Redis was unreachable): nothing is decided, since the caller has already
                     answered, so no acceptance can exist that its client was never told about

  The stock and the window are read here, not passed in, so a change of the terms is in force for
  every replica from the moment it is written. All keys carry the hash tag {coupon:ID}, so the
  script also runs on Redis Cluster.
]]
local time = redis.call("TIME")
if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > tonumber(ARGV[5]) then
  return { 9, "" }
end

local terms = redis.call("HMGET", KEYS[1], "eventId", "stock", "startsAt", "endsAt", "validUntil")
if not terms[1] then return { 6, "" } end
if terms[1] ~= ARGV[2] then return { 7, "" } end

local now = tonumber(ARGV[4])
if now < tonumber(terms[3]) then return { 4, terms[3] } end
if now >= tonumber(terms[4]) then return { 5, terms[4] } end
if now >= tonumber(terms[5]) then return { 8, terms[5] } end

if redis.call("SISMEMBER", KEYS[2], ARGV[1]) == 1 then return { 2, "" } end
if redis.call("SCARD", KEYS[2]) >= tonumber(terms[2]) then return { 3, "" } end

redis.call("SADD", KEYS[2], ARGV[1])
local id = redis.call("XADD", KEYS[3], "*", "couponId", ARGV[3], "eventId", ARGV[2], "userId", ARGV[1],
  "issuedAt", ARGV[4], "requestId", ARGV[6], "traceparent", ARGV[7] or "")
return { 1, id }
