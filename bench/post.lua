-- wrk script: POSTs the JSON body in the file $BENCH_BODY (one per line: several lines are
-- drawn at random, one per request) and prints one machine-readable line.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODY")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "no request body in " .. os.getenv("BENCH_BODY"))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if os.getenv("BENCH_ACCEPT_ENCODING") then
  wrk.headers["Accept-Encoding"] = os.getenv("BENCH_ACCEPT_ENCODING")
end
-- Each wrk thread draws its own deterministic sequence.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(seed or 1)
end
if #bodies == 1 then
  wrk.body = bodies[1]
else
  request = function()
    return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d sockerr=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
