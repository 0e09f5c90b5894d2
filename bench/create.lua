-- wrk script: POST /v2/users with a unique username per request.
-- Env: ROSTER_KEY (app key, required), ROSTER_IDENTIFIER (default "bench").
local key = os.getenv("ROSTER_KEY") or error("ROSTER_KEY is not set")
local ident = os.getenv("ROSTER_IDENTIFIER") or "bench"

local threads = {}
local counter = 1

function setup(thread)
  -- A distinct random prefix per thread, so concurrent threads never collide.
  math.randomseed(os.time() + counter)
  thread:set("prefix", string.format("b%08x%d", math.random(0, 0x7fffffff), counter))
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Api-Key"] = "browser " .. ident .. " " .. key
end

function request()
  n = n + 1
  local u = prefix .. "u" .. n
  local body = string.format(
    '{"username":"%s","password":"pw-123456","email":{"primary":"%s@example.com"}}', u, u)
  return wrk.format(nil, "/v2/users", nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
    if not sample then sample = body end
  end
end

function done(summary, latency, requests)
  local total, merged, sample_body = 0, {}, nil
  for _, t in ipairs(threads) do
    total = total + (t:get("bad") or 0)
    for code, c in pairs(t:get("statuses") or {}) do merged[code] = (merged[code] or 0) + c end
    sample_body = sample_body or t:get("sample")
  end
  for code, c in pairs(merged) do io.write(string.format("non-200 status %d: %d\n", code, c)) end
  if sample_body then io.write("sample non-200 body: " .. sample_body .. "\n") end
  io.write(string.format("non-200 responses: %d\n", total))
end
