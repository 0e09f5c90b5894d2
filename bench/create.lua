-- wrk script: creates one user per request, a unique username each, through one API.
-- Env: ROSTER_API selects it:
--   catalyze (the default): POST /v2/users with a password (argon2id on every create);
--            ROSTER_KEY (app key, required), ROSTER_IDENTIFIER (default "bench");
--   pingone: POST /v1/environments/{env}/users without a password (no argon2id);
--            ROSTER_TOKEN (worker-app access token), ROSTER_ENV (both required).
-- Prints each unexpected status with its count, one sample body, and
-- "non-<expected status> responses: N" (bench/run.sh and bench/groupcommit.sh read it).
local api = os.getenv("ROSTER_API") or "catalyze"
local target = {}
if api == "catalyze" then
  local key = os.getenv("ROSTER_KEY") or error("ROSTER_KEY is not set")
  local ident = os.getenv("ROSTER_IDENTIFIER") or "bench"
  target = {
    expected = 200,
    letter = "b",
    header = {"X-Api-Key", "browser " .. ident .. " " .. key},
    path = "/v2/users",
    body = '{"username":"%s","password":"pw-123456","email":{"primary":"%s@example.com"}}',
  }
elseif api == "pingone" then
  local token = os.getenv("ROSTER_TOKEN") or error("ROSTER_TOKEN is not set")
  local env = os.getenv("ROSTER_ENV") or error("ROSTER_ENV is not set")
  target = {
    expected = 201,
    letter = "g",
    header = {"Authorization", "Bearer " .. token},
    path = "/v1/environments/" .. env .. "/users",
    body = '{"username":"%s","email":"%s@example.com"}',
  }
else
  error("ROSTER_API must be catalyze or pingone")
end

local threads = {}
local counter = 1

function setup(thread)
  -- A distinct random prefix per thread, so concurrent threads never collide.
  math.randomseed(os.time() + counter)
  thread:set("prefix", string.format("%s%08x%d", target.letter, math.random(0, 0x7fffffff), counter))
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  bad = 0
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers[target.header[1]] = target.header[2]
end

function request()
  n = n + 1
  local u = prefix .. "u" .. n
  return wrk.format(nil, target.path, nil, string.format(target.body, u, u))
end

function response(status, headers, body)
  if status ~= target.expected then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
    if not sample then sample = status .. " " .. body end
  end
end

function done(summary, latency, requests)
  local total, merged, sample_body = 0, {}, nil
  for _, t in ipairs(threads) do
    total = total + (t:get("bad") or 0)
    for code, c in pairs(t:get("statuses") or {}) do merged[code] = (merged[code] or 0) + c end
    sample_body = sample_body or t:get("sample")
  end
  for code, c in pairs(merged) do io.write(string.format("unexpected status %d: %d\n", code, c)) end
  if sample_body then io.write("sample unexpected response: " .. sample_body .. "\n") end
  io.write(string.format("non-%d responses: %d\n", target.expected, total))
end
