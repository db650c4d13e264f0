-- wrk script: POST real drawings (raw image/png bodies) to /api/v1/predict.
-- PREDICT_DRAWINGS names a folder of 01.png .. NN.png (PREDICT_COUNT of them), written by
-- bench/bench_api.py with inference.canvas.render_strokes. done() prints one JSON line.
local dir = os.getenv("PREDICT_DRAWINGS") or "bench/wrk/drawings"
local count = tonumber(os.getenv("PREDICT_COUNT") or "20")
local requests_ready = {}
local n = 0

for i = 1, count do
  local file = assert(io.open(string.format("%s/%02d.png", dir, i), "rb"))
  local body = file:read("*all")
  file:close()
  requests_ready[i] = wrk.format("POST", nil, { ["Content-Type"] = "image/png" }, body)
end

request = function()
  n = n + 1
  return requests_ready[(n % count) + 1]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors_status": %d, "errors_connect": %d, ' ..
    '"errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
