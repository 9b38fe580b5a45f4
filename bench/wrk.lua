-- Send the requests listed in a file (one path and query a line), in turn, and print
-- what bench/load.py reads: requests, microseconds, p99 latency (us), errors.
local paths = {}
local next_one = 0

init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end

request = function()
  next_one = next_one % #paths + 1
  local path = string.gsub(paths[next_one], "NUMBER", tostring(math.random(1000000, 9999999)))
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))
end
