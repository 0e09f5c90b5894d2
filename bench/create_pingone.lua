-- wrk script: PingOne POST /v1/environments/{env}/users without a password (no argon2id),
-- a unique username per request. Env: ROSTER_TOKEN (worker-app access token), ROSTER_ENV.
local token = os.getenv("ROSTER_TOKEN") or error("ROSTER_TOKEN is not set")
local env = os.getenv("ROSTER_ENV") or error("ROSTER_ENV is not set")

local threads = {}
local counter = 1

function setup(thread)
  math.randomseed(os.time() + counter)
  thread:set("prefix", string.format("g%08x%d", math.random(0, 0x7fffffff), counter))
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  n = n + 1
  local u = prefix .. "u" .. n
  local body = string.format('{"username":"%s","email":"%s@example.com"}', u, u)
  return wrk.format(nil, "/v1/environments/" .. env .. "/users", nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
    if not sample then sample = status .. " " .. body end
  end
end

function done(summary, latency, requests)
  local total, sample_body = 0, nil
  for _, t in ipairs(threads) do
    total = total + (t:get("bad") or 0)
    sample_body = sample_body or t:get("sample")
  end
  if sample_body then io.write("sample non-201: " .. sample_body .. "\n") end
  io.write(string.format("non-201 responses: %d\n", total))
end
