#!/usr/bin/env bash
# GET /v2/users/{id} with the audit trail on and off, in the same run (issue 13): one
# data directory, one server started with --audit on and one with --audit off, wrk
# against each in alternating slices; prints both rates and the ratio (target >= 0.8).
# Each audited GET appends its record through the group-commit writer and its answer
# waits until the record is durable (docs/security.md, "Audit trail").
# Knobs: DURATION (s per side, 10), SLICE (s per wrk slice, 2), THREADS (2),
# CONNECTIONS (32), STORE (sqlite or postgres), ROSTER_BIN (use this binary).
# It also prints each server's CPU time per answered GET (user + system, from
# /proc/PID/stat): a figure that, unlike the rates, hardly moves when other work shares
# the machine, so a change to the audited path can be judged on a busy machine too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10}
SLICE=${SLICE:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-"32 128"}
STORE=${STORE:-sqlite}
BUILD=build-release
PY=/usr/bin/python3
K=$(( (DURATION + SLICE - 1) / SLICE ))

if [[ -z ${ROSTER_BIN:-} ]]; then
  log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
    { echo "$log" >&2; exit 1; }
  ninja -C "$BUILD" -j2 roster
  ROSTER_BIN=$ROOT/$BUILD/src/cli/roster
fi

TMP=$(mktemp -d -t roster-audit-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
  if [[ -n ${PG_DIR:-} ]]; then "$ROOT/scripts/pg-test-cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

INIT_ARGS=()
if [[ $STORE == postgres ]]; then
  PG_DIR=$(mktemp -d -t roster-audit-bench-pg.XXXXXX)
  PG_DSN=$(PG_FSYNC=on "$ROOT/scripts/pg-test-cluster.sh" start "$PG_DIR")
  INIT_ARGS=(--database "$PG_DSN")
fi

json_get() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
ADMIN_KEY=$("$ROSTER_BIN" init --data-dir "$TMP/data" "${INIT_ARGS[@]}" --json | json_get adminKey)

# start NAME AUDIT -> sets URL_<NAME>
start() {
  "$ROSTER_BIN" serve --data-dir "$TMP/data" --listen 127.0.0.1:0 --audit "$2" --access-log "$TMP/$1.access.log" \
    --throttle-per-address 0 --throttle-per-credential 0 >"$TMP/$1.out" 2>"$TMP/$1.err" &
  PIDS+=($!)
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's#^roster listening on http://[^ ]*:\([0-9]\+\)$#\1#p' "$TMP/$1.out")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "server ($1) did not start:" >&2; cat "$TMP/$1.err" >&2; exit 1; }
  printf -v "URL_$1" 'http://127.0.0.1:%s' "$port"
}
start on on
PID_on=${PIDS[-1]}
start off off
PID_off=${PIDS[-1]}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
HZ=$(getconf CLK_TCK)

USER_ID=$(curl -fsS -X POST "$URL_on/v2/users" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $ADMIN_KEY" \
  -d '{"username":"bench-audit-user","password":"pw-123456","email":{"primary":"bench-audit@example.com"},"ssn":"123456789"}' |
  json_get usersId)

rate() {  # wrk output -> 2xx per second, and errors
  "$PY" - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
req = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", t).group(1))
secs = float(re.search(r"requests in ([\d.]+)(m?s)", t).group(1))
if re.search(r"requests in [\d.]+ms", t): secs /= 1000
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
nbad = (int(bad.group(1)) if bad else 0) + (sum(map(int, err.groups())) if err else 0)
print(f"{(req - (int(bad.group(1)) if bad else 0)) / secs:.1f} {nbad}")
PY
}

echo "== GET /v2/users/{id}, audit on vs off ($STORE; wrk -t$THREADS, connections: $CONNECTIONS; $K x ${SLICE}s slices each)"
echo "   uptime: $(uptime)"
: >"$TMP/pairs"
for c in $CONNECTIONS; do
  for ((i = 0; i < K; i++)); do
    for side in on off; do
      url_var="URL_$side"
      pid_var="PID_$side"
      before=$(cpu_ticks "${!pid_var}")
      wrk -t"$THREADS" -c"$c" -d"${SLICE}s" -H "X-Api-Key: browser bench $ADMIN_KEY" \
        "${!url_var}/v2/users/$USER_ID" >"$TMP/$side.$i.txt"
      echo $(( $(cpu_ticks "${!pid_var}") - before )) >"$TMP/$side.$i.cpu"
    done
    read -r on_rps on_err < <(rate "$TMP/on.$i.txt")
    read -r off_rps off_err < <(rate "$TMP/off.$i.txt")
    on_us=$("$PY" -c 'import sys; print(f"{int(sys.argv[1]) * 1e6 / int(sys.argv[2]) / (float(sys.argv[3]) * float(sys.argv[4])):.1f}")' \
      "$(cat "$TMP/on.$i.cpu")" "$HZ" "$on_rps" "$SLICE")
    off_us=$("$PY" -c 'import sys; print(f"{int(sys.argv[1]) * 1e6 / int(sys.argv[2]) / (float(sys.argv[3]) * float(sys.argv[4])):.1f}")' \
      "$(cat "$TMP/off.$i.cpu")" "$HZ" "$off_rps" "$SLICE")
    echo "$c $on_rps $on_err $off_rps $off_err $on_us $off_us" >>"$TMP/pairs"
    echo "  c=$c slice $((i + 1))/$K: audit on $on_rps/s ($on_err errors, $on_us us CPU/GET), audit off $off_rps/s ($off_err errors, $off_us us CPU/GET)"
  done
done
echo "   uptime: $(uptime)"
"$PY" - "$TMP/pairs" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
best = {"on": 0.0, "off": 0.0}
errors = 0
for c in dict.fromkeys(int(r[0]) for r in rows):
    rs = [r[1:] for r in rows if int(r[0]) == c]
    on = statistics.mean(r[0] for r in rs)
    off = statistics.mean(r[2] for r in rs)
    best["on"], best["off"] = max(best["on"], on), max(best["off"], off)
    errors += int(sum(r[1] + r[3] for r in rs))
    ratios = [r[0] / r[2] for r in rs if r[2]]
    on_cpu = statistics.median(r[4] for r in rs)
    off_cpu = statistics.median(r[5] for r in rs)
    print(f"c={c}: audit on {on:.1f} GET/s, off {off:.1f} GET/s, ratio {statistics.median(ratios):.3f} "
          f"(median of {len(ratios)} slice pairs); CPU per GET on {on_cpu:.1f} us, off {off_cpu:.1f} us, off/on {off_cpu / on_cpu:.3f}")
print(f"best rate over the counts: audit on {best['on']:.1f} GET/s, off {best['off']:.1f} GET/s; "
      f"ratio {best['on'] / best['off']:.3f} (unpaired: the two bests may come from different slices)")
print(f"throughput ratio (paired slices at the highest count, c={c}): {statistics.median(ratios):.3f} "
      f"(target >= 0.8); errors {errors}")
PY
RECORDS=$("$ROSTER_BIN" audit export --env default --data-dir "$TMP/data" | wc -l)
echo "audit records written: $RECORDS"
