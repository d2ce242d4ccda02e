-- bench-tracker's HTTP load for wrk: every request a keep-alive announce of another peer of a fixed
-- population (peer p in swarm p % swarms, at port 1024 + p, peer id -EB0001- and p in 12 digits; one
-- in ten a seed), so both trackers hold the same peers and, after the first pass, see re-announces.
-- Arguments after `--`: the file of hex infohashes (one a line), the population's size, numwant, wrk's threads.
-- done() prints one line, "bench-tracker-json " and a JSON object, for bench-tracker.ts to read.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local hashes = {}
local population, numwant, step, n = 0, 0, 1, 0
failures = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line == 40 then
      hashes[#hashes + 1] = line:gsub("%x%x", function(byte) return "%" .. byte end)
    end
  end
  population = tonumber(args[2])
  numwant = tonumber(args[3])
  -- Each of the wrk threads takes every step-th peer, starting at its own id (set by setup).
  step = tonumber(args[4])
  n = id
end

function request()
  local peer = n % population
  local path = "/announce?info_hash=" .. hashes[(peer % #hashes) + 1]
    .. string.format("&peer_id=-EB0001-%012d&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=%d",
      peer, 1024 + peer, (peer % 10 == 0) and 0 or 1000000, numwant)
  if n < population then path = path .. "&event=started" end
  n = n + step
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 or body:find("failure reason", 1, true) then failures = failures + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("failures") end
  local e = summary.errors
  io.write(string.format(
    'bench-tracker-json {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"failures":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, failed,
    latency:percentile(50), latency:percentile(99), latency.max))
end
