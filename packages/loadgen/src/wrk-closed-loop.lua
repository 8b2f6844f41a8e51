--[[
  A closed loop for wrk in which every request carries its own user's token, and every answer is
  recorded, so that the 201s can be audited against the database and latency plotted over time.
  Driven by wrk.ts, which passes everything in the environment (a wrk script's done() sees no args):

  BENCH_TOKENS  token files, one per wrk thread, "%d" standing for the thread's number (1, 2, …);
                each line is "<user id> <token>"
  BENCH_PATH    request path
  BENCH_BODY    JSON body, the same for every request
  BENCH_WRAP    "1": start again from the first token when all were sent (for servers that do not
                care who asks); otherwise the thread stops once each of its users has asked once
  BENCH_OUT     where done() writes the records

  Each request carries X-Request-Id "<thread>-<sequence>", which the services echo: that is how an
  answer finds the time its request left and the user it was for.
]]
local ffi = require("ffi")
ffi.cdef([[
  struct bench_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clock_id, struct bench_timespec *tp);
]])
-- CLOCK_MONOTONIC, the clock of Node's process.hrtime, so that wrk.ts can line the records up with
-- the CPU samples it takes meanwhile.
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("struct bench_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

function init()
  users, tokens = {}, {}
  for line in io.lines(string.format(os.getenv("BENCH_TOKENS"), thread_id)) do
    local space = line:find(" ", 1, true)
    users[#users + 1] = line:sub(1, space - 1)
    tokens[#tokens + 1] = line:sub(space + 1)
  end
  wrap = os.getenv("BENCH_WRAP") == "1"
  local body = os.getenv("BENCH_BODY")
  head = "POST " .. os.getenv("BENCH_PATH") .. " HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port
    .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body .. "\r\nAuthorization: Bearer "
  id_header = "\r\nX-Request-Id: " .. thread_id .. "-"
  id_prefix_length = #tostring(thread_id) + 1
  tail = "\r\n\r\n" .. body
  sent, answered, exhausted_at_us = 0, 0, 0
  sent_at, user_of = {}, {}
  status, latency_us, done_at_us, user = {}, {}, {}, {}
end

function request()
  sent = sent + 1
  local n = sent
  if n > #tokens then
    if wrap then
      n = (sent - 1) % #tokens + 1
    else
      -- Every user of this thread has asked: stop. wrk may still want a request for a connection
      -- that became writable in the same turn; it gets a repeat whose answer is not recorded.
      if exhausted_at_us == 0 then
        exhausted_at_us = now_us()
        wrk.thread:stop()
      end
      return head .. tokens[#tokens] .. id_header .. "0" .. tail
    end
  end
  user_of[sent] = users[n]
  sent_at[sent] = now_us()
  return head .. tokens[n] .. id_header .. sent .. tail
end

function response(code, headers)
  local id = headers["x-request-id"] or headers["X-Request-Id"]
  if id == nil then return end
  local seq = tonumber(id:sub(id_prefix_length + 1))
  local started = seq and sent_at[seq]
  if started == nil then return end
  local now = now_us()
  answered = answered + 1
  status[answered] = code
  latency_us[answered] = now - started
  done_at_us[answered] = now
  user[answered] = user_of[seq]
  sent_at[seq], user_of[seq] = nil, nil
end

function done(summary, latency)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e = summary.errors
  out:write(string.format("summary %d %d %d %d %d %d %d\n", summary.duration, summary.requests, e.connect,
    e.read, e.write, e.status, e.timeout))
  out:write(string.format("wrk_latency_us %d %d %d %d %d\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
  for i, thread in ipairs(threads) do
    out:write(string.format("thread %d %d %d %d\n", i, thread:get("sent"), thread:get("answered"),
      thread:get("exhausted_at_us")))
    -- Requests still in flight when the run ended: their users may well hold a coupon now.
    for _, id in pairs(thread:get("user_of")) do out:write("unanswered ", id, "\n") end
  end
  out:write("records\n")
  for _, thread in ipairs(threads) do
    local n = thread:get("answered")
    local s, l, d, u = thread:get("status"), thread:get("latency_us"), thread:get("done_at_us"), thread:get("user")
    local lines = {}
    for i = 1, n do
      lines[#lines + 1] = s[i] .. " " .. l[i] .. " " .. d[i] .. " " .. u[i]
      if #lines == 10000 then
        out:write(table.concat(lines, "\n"), "\n")
        lines = {}
      end
    end
    if #lines > 0 then out:write(table.concat(lines, "\n"), "\n") end
  end
  out:close()
end
