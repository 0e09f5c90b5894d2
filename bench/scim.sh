#!/usr/bin/env bash
# SCIM's user list with a filter against the same query through PingOne, on one server
# with USERS users in one environment, in the same run (docs/benchmarks.md, "SCIM"):
#   GET /scim/v2/Users?filter=userName eq "bench-K"                       (SCIM token)
#   GET /v1/environments/{env}/users?filter=username eq "bench-K"         (PingOne worker)
# the probe every identity provider sends before provisioning a user. wrk runs the two
# alternately, ROUNDS times each, and the totals give the ratio (target: within 10%).
# Users are filled through SCIM /Bulk (no passwords, so no argon2id): BULK operations per
# request from FILLERS parallel clients; the fill rate is printed too.
# Knobs: USERS (100000), DURATION (s per wrk run, 5), ROUNDS (3), THREADS (2),
# CONNECTIONS (8), BULK (1000), FILLERS (4), ROSTER_BIN (skip the build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
USERS=${USERS:-100000}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
BULK=${BULK:-1000}
FILLERS=${FILLERS:-4}
BUILD=build-release
PY=/usr/bin/python3

if [[ -z ${ROSTER_BIN:-} ]]; then
  log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
    { echo "$log" >&2; exit 1; }
  ninja -C "$BUILD" -j2 roster
  ROSTER_BIN=$ROOT/$BUILD/src/cli/roster
fi

TMP=$(mktemp -d -t roster-scim-bench.XXXXXX)
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
SCIM_TOKEN=$("$ROSTER_BIN" scim token create --env default --data-dir "$TMP/data" --json | json_get token)
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

ENV_ID=$(printf '%s' "$P1" | json_get environmentId)
P1_TOKEN=$(curl -fsS -u "$(printf '%s' "$P1" | json_get clientId):$(printf '%s' "$P1" | json_get clientSecret)" \
  -d grant_type=client_credentials "$URL/$ENV_ID/as/token" | json_get access_token)

# Fill through SCIM /Bulk; prints "users seconds".
ROSTER_SCIM_TOKEN=$SCIM_TOKEN "$PY" - "$PORT" "$USERS" "$BULK" "$FILLERS" <<'PY'
import http.client, json, os, sys, threading, time
port, total, per, fillers = map(int, sys.argv[1:5])
token = os.environ["ROSTER_SCIM_TOKEN"]
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
batches = [list(range(s, min(s + per, total))) for s in range(0, total, per)]
errors = []
def work(mine):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for batch in mine:
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"b{i}",
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"bench-{i}",
                         "name": {"givenName": "Bench", "familyName": f"User {i}"},
                         "emails": [{"value": f"bench-{i}@example.com", "primary": True}]}} for i in batch]
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
        c.request("POST", "/scim/v2/Bulk", body, headers)
        r = c.getresponse(); data = r.read()
        if r.status != 200: errors.append(f"bulk {r.status}: {data[:200]!r}"); return
        bad = [o for o in json.loads(data)["Operations"] if o["status"] != "201"]
        if bad: errors.append(f"{len(bad)} failed, first: {bad[0]}"); return
start = time.time()
threads = [threading.Thread(target=work, args=(batches[k::fillers],)) for k in range(fillers)]
for t in threads: t.start()
for t in threads: t.join()
if errors: sys.exit("fill failed: " + errors[0])
elapsed = time.time() - start
print(f"filled {total} users through /Bulk ({per} per request, {fillers} clients) in {elapsed:.1f} s: "
      f"{total / elapsed:.0f} users/s", file=sys.stderr)
PY

TARGET=bench-$((USERS / 2))
SCIM_PATH="/scim/v2/Users?filter=userName%20eq%20%22$TARGET%22"
P1_PATH="/v1/environments/$ENV_ID/users?filter=username%20eq%20%22$TARGET%22"

# Both answer the one user, and the same one.
SCIM_ID=$(curl -fsS -H "Authorization: Bearer $SCIM_TOKEN" "$URL$SCIM_PATH" |
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["totalResults"]==1, d; print(d["Resources"][0]["id"])')
P1_ID=$(curl -fsS -H "Authorization: Bearer $P1_TOKEN" "$URL$P1_PATH" |
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); u=d["_embedded"]["users"]; assert len(u)==1, d; print(u[0]["id"])')
[[ $SCIM_ID == "$P1_ID" ]] || { echo "SCIM and PingOne found different users: $SCIM_ID $P1_ID" >&2; exit 1; }
echo "server pid $SERVER_PID on $URL, $USERS users; filter userName eq \"$TARGET\""
# What Okta's import asks (no filter, a total): the status tells whether it is answered.
IMPORT=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $SCIM_TOKEN" \
  "$URL/scim/v2/Users?startIndex=1&count=100")
echo "GET /scim/v2/Users?startIndex=1&count=100 (Okta's import page) at $USERS users: HTTP $IMPORT"

# measure NAME TOKEN PATH: one wrk run; prints "requests non2xx p50_ms p99_ms".
measure() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $2" "$URL$3" >"$TMP/$1.txt"
  "$PY" - "$TMP/$1.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
unit = {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}
def pct(p):
    m = re.search(rf"^\s*{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
req = int(re.search(r"(\d+) requests in", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
print(f"{req} {int(bad.group(1)) if bad else 0} {pct(50):.3f} {pct(99):.3f}")
PY
}

S_REQ=0; P_REQ=0; S_BAD=0; P_BAD=0; S_P50=(); P_P50=(); S_P99=(); P_P99=()
for round in $(seq "$ROUNDS"); do
  read -r req bad p50 p99 < <(measure "scim$round" "$SCIM_TOKEN" "$SCIM_PATH")
  S_REQ=$((S_REQ + req)); S_BAD=$((S_BAD + bad)); S_P50+=("$p50"); S_P99+=("$p99")
  echo "  round $round SCIM:    $req requests, p50 $p50 ms, p99 $p99 ms, $bad non-2xx"
  read -r req bad p50 p99 < <(measure "pingone$round" "$P1_TOKEN" "$P1_PATH")
  P_REQ=$((P_REQ + req)); P_BAD=$((P_BAD + bad)); P_P50+=("$p50"); P_P99+=("$p99")
  echo "  round $round PingOne: $req requests, p50 $p50 ms, p99 $p99 ms, $bad non-2xx"
done
"$PY" - "$USERS" "$ROUNDS" "$DURATION" "$S_REQ" "$P_REQ" "$S_BAD" "$P_BAD" "${S_P50[*]}" "${P_P50[*]}" <<'PY'
import json, statistics, sys
users, rounds, duration, s, p, sb, pb = map(int, sys.argv[1:8])
sp50 = statistics.median(map(float, sys.argv[8].split())); pp50 = statistics.median(map(float, sys.argv[9].split()))
secs = rounds * duration
r = {"users": users, "scim_rps": round(s / secs, 1), "pingone_rps": round(p / secs, 1),
     "scim_p50_ms": sp50, "pingone_p50_ms": pp50, "scim_non2xx": sb, "pingone_non2xx": pb,
     "scim_over_pingone": round(s / p, 3) if p else None}
within = r["scim_over_pingone"] is not None and abs(r["scim_over_pingone"] - 1) <= 0.10
print(f"SCIM {r['scim_rps']} req/s vs PingOne {r['pingone_rps']} req/s: ratio {r['scim_over_pingone']} "
      f"(target within 10%: {'ok' if within else 'OUTSIDE'})")
print(json.dumps(r))
PY
