-- wrk script: PUT a new CollectLog job per request (unique names), so every request is a
-- durable create that also starts a lifecycle.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix = os.getenv("AZEMU_BENCH_DEVICE") or ""
  -- Each run its own names, so that a second run creates jobs too.
  run = os.getenv("AZEMU_BENCH_RUN") or "0"
end

request = function()
  counter = counter + 1
  local path = prefix .. "/jobs/b" .. run .. "-" .. tid .. "-" .. counter .. "?api-version=2026-10-01"
  local body = '{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}'
  return wrk.format("PUT", path, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench"}, body)
end
