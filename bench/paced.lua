-- wrk script: each connection waits 10 ms between requests, for a light load whose latency is
-- measured beside a heavy one.
function delay()
  return 10
end
