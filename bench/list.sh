#!/usr/bin/env bash
# GET /users.json?per_page=10 (QuickBlox, the first page of the unfiltered list) with
# wrk at SMALL and at LARGE users in one environment, and the ratio: the list's cost
# must not grow with the environment (docs/benchmarks.md, "User lists").
# Users are created without a password through PingOne (POST .../users with a
# worker-app token), so no argon2id is spent on them.
# Knobs: SMALL (1000), LARGE (20000), DURATION (s per wrk run, 10), THREADS (2),
# CONNECTIONS (8), ROSTER_BIN (use this roster binary instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SMALL=${SMALL:-1000}
LARGE=${LARGE:-20000}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
BUILD=build-release
PY=/usr/bin/python3

if [[ -z ${ROSTER_BIN:-} ]]; then
  log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
    { echo "$log" >&2; exit 1; }
  ninja -C "$BUILD" -j2 roster
  ROSTER_BIN=$ROOT/$BUILD/src/cli/roster
fi

TMP=$(mktemp -d -t roster-list-bench.XXXXXX)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

json_get() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

"$ROSTER_BIN" init --data-dir "$TMP/data" --json >/dev/null
P1=$("$ROSTER_BIN" pingone app create --env default --data-dir "$TMP/data" --json)
QB_KEY=$("$ROSTER_BIN" quickblox app create --env default --data-dir "$TMP/data" --json | json_get apiKey)
"$ROSTER_BIN" serve --data-dir "$TMP/data" --listen 127.0.0.1:0 --access-log "$TMP/access.log" \
  >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's#^roster listening on http://[^ ]*:\([0-9]\+\)$#\1#p' "$TMP/server.out")
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n $PORT ]] || { echo "server did not start:" >&2; cat "$TMP/server.err" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fsS "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

# create_users TOTAL: creates users until the environment holds TOTAL of them.
create_users() {
  "$PY" - "$PORT" "$1" "$P1" <<'PY'
import base64, http.client, json, sys, threading
port, total, app = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
env = app["environmentId"]
conn = http.client.HTTPConnection("127.0.0.1", port)
basic = base64.b64encode(f'{app["clientId"]}:{app["clientSecret"]}'.encode()).decode()
conn.request("POST", f"/{env}/as/token", "grant_type=client_credentials",
             {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
token = json.loads(conn.getresponse().read())["access_token"]
conn.request("GET", f"/v1/environments/{env}/users?limit=1", headers={"Authorization": "Bearer " + token})
have = json.loads(conn.getresponse().read()).get("count", 0)
todo = list(range(have, total))
def work(part):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in part:
        body = json.dumps({"username": f"bench-{i}", "email": f"bench-{i}@example.com",
                           "name": {"given": "Bench", "family": f"User {i}"}})
        c.request("POST", f"/v1/environments/{env}/users", body,
                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 201: sys.exit(f"create failed: {r.status}")
threads = [threading.Thread(target=work, args=(todo[k::4],)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
PY
}

# measure NAME: wrk on the list; prints "rps p50_ms p99_ms requests non2xx".
measure() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: ApiKey $QB_KEY" \
    "$URL/users.json?per_page=10" >"$TMP/$1.txt"
  "$PY" - "$TMP/$1.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
unit = {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}
def pct(p):
    m = re.search(rf"^\s*{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
req = int(re.search(r"(\d+) requests in", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
print(f"{rps:.1f} {pct(50):.3f} {pct(99):.3f} {req} {int(bad.group(1)) if bad else 0}")
PY
}

check_page() {
  curl -fsS "$URL/users.json?per_page=10" -H "Authorization: ApiKey $QB_KEY" |
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert len(d["items"])==10, d; print(d["total_entries"])'
}

echo "server pid $SERVER_PID on $URL"
create_users "$SMALL"
echo "== $(check_page) users: GET /users.json?per_page=10 (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
read -r S_RPS S_P50 S_P99 S_REQ S_BAD < <(measure small)
echo "  $S_RPS req/s, p50 $S_P50 ms, p99 $S_P99 ms ($S_REQ requests, $S_BAD non-2xx)"
create_users "$LARGE"
echo "== $(check_page) users: GET /users.json?per_page=10"
read -r L_RPS L_P50 L_P99 L_REQ L_BAD < <(measure large)
echo "  $L_RPS req/s, p50 $L_P50 ms, p99 $L_P99 ms ($L_REQ requests, $L_BAD non-2xx)"
"$PY" - "$S_RPS" "$L_RPS" "$S_P50" "$L_P50" "$SMALL" "$LARGE" <<'PY'
import json, sys
s, l, sp, lp = map(float, sys.argv[1:5])
r = {"small_users": int(sys.argv[5]), "large_users": int(sys.argv[6]), "small_rps": s, "large_rps": l,
     "small_p50_ms": sp, "large_p50_ms": lp, "cost_ratio": round(s / l, 3) if l else None}
print(f"cost ratio (small req/s / large req/s): {r['cost_ratio']}  target <= 2: "
      f"{'ok' if r['cost_ratio'] is not None and r['cost_ratio'] <= 2 else 'ABOVE TARGET'}")
print(json.dumps(r))
PY
