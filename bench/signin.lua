-- wrk script: POST /v2/auth/signin for one user with the right password.
-- Env: ROSTER_KEY (app key, required), ROSTER_USERNAME (required), ROSTER_PASSWORD
-- (default pw-123456), ROSTER_IDENTIFIER (default "bench").
local key = os.getenv("ROSTER_KEY") or error("ROSTER_KEY is not set")
local username = os.getenv("ROSTER_USERNAME") or error("ROSTER_USERNAME is not set")
local password = os.getenv("ROSTER_PASSWORD") or "pw-123456"
local ident = os.getenv("ROSTER_IDENTIFIER") or "bench"

wrk.method = "POST"
wrk.path = "/v2/auth/signin"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "browser " .. ident .. " " .. key
wrk.body = string.format('{"username":"%s","password":"%s"}', username, password)
