#!/usr/bin/env bash
# The PingOne per-call token check (docs/benchmarks.md, "PingOne token check"): wrk on
# GET /v1/environments/{env}/users/{id} with a worker-app token against two roster
# binaries, BEFORE_BIN and AFTER_BIN (e.g. main's and a branch's Release builds), each
# with its own fresh data dir and server, measured in alternating slices (B A B A ...) so
# drift on the shared machine cancels. Prints per-binary req/s and latency (medians over
# the slices) and the median of the per-round ratios after/before.
# Knobs: ROUNDS (5), SLICE (s per wrk run, 3), THREADS (2), CONNECTIONS (16); STORE=postgres
# runs both against one throwaway PostgreSQL cluster (a database each).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${BEFORE_BIN:?set BEFORE_BIN to the roster binary to compare against}"
: "${AFTER_BIN:?set AFTER_BIN to the roster binary to measure}"
ROUNDS=${ROUNDS:-5}
SLICE=${SLICE:-3}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
STORE=${STORE:-sqlite}
PY=/usr/bin/python3

TMP=$(mktemp -d -t roster-token-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
  if [[ -n ${PG_DIR:-} ]]; then "$ROOT/scripts/pg-test-cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

if [[ $STORE == postgres ]]; then
  PG_DIR=$(mktemp -d -t roster-token-bench-pg.XXXXXX)
  PG_DSN=$(PG_FSYNC=on "$ROOT/scripts/pg-test-cluster.sh" start "$PG_DIR")
fi

# start NAME BIN: a data dir, a worker app and a server; sets URL_<NAME>, PATH_<NAME>, AUTH_<NAME>.
start() {
  local name=$1 bin=$2 dir=$TMP/$1 init_args=()
  if [[ $STORE == postgres ]]; then
    local db=bench_$name
    psql "$PG_DSN" -qc "CREATE DATABASE $db" >/dev/null
    init_args=(--database "${PG_DSN%/*}/$db")
  fi
  "$bin" init --data-dir "$dir" "${init_args[@]}" --json >/dev/null
  local app
  app=$("$bin" pingone app create --env default --data-dir "$dir" --json)
  "$bin" serve --data-dir "$dir" --listen 127.0.0.1:0 --access-log "$dir/access.log" \
    >"$dir/server.out" 2>"$dir/server.err" &
  PIDS+=($!)
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's#^roster listening on http://[^ ]*:\([0-9]\+\)$#\1#p' "$dir/server.out")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "server $name did not start:" >&2; cat "$dir/server.err" >&2; exit 1; }
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local out
  out=$("$PY" - "$port" "$app" <<'PY'
import base64, http.client, json, sys
port, app = int(sys.argv[1]), json.loads(sys.argv[2])
env = app["environmentId"]
c = http.client.HTTPConnection("127.0.0.1", port)
basic = base64.b64encode(f'{app["clientId"]}:{app["clientSecret"]}'.encode()).decode()
c.request("POST", f"/{env}/as/token", "grant_type=client_credentials",
          {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
token = json.loads(c.getresponse().read())["access_token"]
c.request("POST", f"/v1/environments/{env}/users",
          json.dumps({"username": "bench-user", "email": "bench@example.com", "name": {"given": "B", "family": "U"}}),
          {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
r = c.getresponse(); user = json.loads(r.read())
assert r.status == 201, user
print(f"/v1/environments/{env}/users/{user['id']} {token}")
PY
)
  printf -v "URL_$name" '%s' "http://127.0.0.1:$port"
  printf -v "PATH_$name" '%s' "${out%% *}"
  printf -v "AUTH_$name" '%s' "Bearer ${out#* }"
}

# measure NAME: one wrk slice; prints "rps p50_ms p99_ms non2xx".
measure() {
  local url_var=URL_$1 path_var=PATH_$1 auth_var=AUTH_$1
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SLICE}s" --latency -H "Authorization: ${!auth_var}" \
    "${!url_var}${!path_var}" >"$TMP/$1.txt"
  "$PY" - "$TMP/$1.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
unit = {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}
def pct(p):
    m = re.search(rf"^\s*{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)
    return float(m.group(1)) * unit[m.group(2)] if m else float("nan")
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", t)
print(f"{rps:.1f} {pct(50):.3f} {pct(99):.3f} {int(bad.group(1)) if bad else 0}")
PY
}

start before "$BEFORE_BIN"
start after "$AFTER_BIN"
echo "GET one user by id, PingOne token; wrk -t$THREADS -c$CONNECTIONS, $ROUNDS rounds of ${SLICE}s each ($STORE)"
RESULTS=$TMP/results
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  for name in before after; do
    read -r rps p50 p99 bad < <(measure "$name")
    echo "  round $round $name: $rps req/s, p50 $p50 ms, p99 $p99 ms, non-2xx $bad"
    echo "$round $name $rps $p50 $p99 $bad" >>"$RESULTS"
  done
done
"$PY" - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {"before": {}, "after": {}}
for rnd, name, rps, p50, p99, bad in rows:
    by[name][int(rnd)] = (float(rps), float(p50), float(p99), int(bad))
def med(name, i):
    return round(statistics.median(v[i] for v in by[name].values()), 3)
ratios = [by["after"][r][0] / by["before"][r][0] for r in sorted(by["before"])]
out = {name: {"rps": med(name, 0), "p50_ms": med(name, 1), "p99_ms": med(name, 2),
              "non2xx": sum(v[3] for v in by[name].values())} for name in by}
out["rps_ratio_after_over_before"] = round(statistics.median(ratios), 3)
out["rps_ratios"] = [round(r, 3) for r in ratios]
print(json.dumps(out))
PY
