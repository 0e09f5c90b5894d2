#!/usr/bin/env bash
# Group commit (issue 14): durable password-free creates/s through an API against bare
# SQLite's single-row synchronous=FULL transaction loop on the same disk, in the same run
# (target: ratio >= 2.5). For each roster binary (ROSTER_BIN, the one built here; and
# BASE_BIN, e.g. a build of main, if given: "before" and "after" in one run) a fresh data
# directory and server; PingOne POST /v1/environments/{env}/users without a password
# (worker-app token; bench/create.lua with ROSTER_API=pingone) with wrk at each of CONNECTIONS, each slice
# next to a run of the bare loop: the sqlite3 CLI running BARE_TXNS times
# "BEGIN IMMEDIATE; INSERT one row; COMMIT" in WAL mode with synchronous=FULL (what the
# store uses) in the same temporary directory. Ratio per slice: creates/s over the mean of
# the bare runs just before and after it; printed: the median ratio per connection count.
# Knobs: CONNECTIONS ("1 8 32 64"), SLICE (s per wrk run, 3), ROUNDS (2), THREADS (2),
# BARE_TXNS (3000), WORKER_THREADS (server --worker-threads; empty: its default),
# SERVE_ARGS (extra serve flags), ROSTER_BIN, BASE_BIN, TMPDIR (the disk measured).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CONNECTIONS=${CONNECTIONS:-"1 8 32 64"}
SLICE=${SLICE:-3}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
BARE_TXNS=${BARE_TXNS:-3000}
WORKER_THREADS=${WORKER_THREADS:-}
SERVE_ARGS=${SERVE_ARGS:-}
BUILD=build-release
PY=/usr/bin/python3

if [[ -z ${ROSTER_BIN:-} ]]; then
  log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
    { echo "$log" >&2; exit 1; }
  ninja -C "$BUILD" -j2 roster
  ROSTER_BIN=$ROOT/$BUILD/src/cli/roster
fi
BINS=(after "$ROSTER_BIN")
[[ -n ${BASE_BIN:-} ]] && BINS=(before "$BASE_BIN" "${BINS[@]}")

TMP=$(mktemp -d -t roster-groupcommit-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

json_get() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# The bare loop: BARE_TXNS one-row transactions, each committed (and fsynced) alone.
"$PY" - "$BARE_TXNS" >"$TMP/bare.sql" <<'PY'
import sys
print("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\nCREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB);")
for _ in range(int(sys.argv[1])):
    print("BEGIN IMMEDIATE; INSERT INTO t(v) VALUES (randomblob(200)); COMMIT;")
PY
bare() {  # -> transactions per second
  rm -f "$TMP/bare.db" "$TMP/bare.db-wal" "$TMP/bare.db-shm"
  local t0 t1
  t0=$(date +%s.%N)
  sqlite3 "$TMP/bare.db" <"$TMP/bare.sql" >/dev/null
  t1=$(date +%s.%N)
  "$PY" -c "print(f'{$BARE_TXNS / ($t1 - $t0):.1f}')"
}

# start LABEL BIN -> sets URL_<LABEL>, TOKEN_<LABEL>, ENV_<LABEL>
start() {
  local label=$1 bin=$2 dir=$TMP/$1
  "$bin" init --data-dir "$dir" --json >/dev/null
  local app
  app=$("$bin" pingone app create --env default --data-dir "$dir" --json)
  local args=(--throttle-per-address 0 --throttle-per-credential 0)
  [[ -n $WORKER_THREADS ]] && args+=(--worker-threads "$WORKER_THREADS")
  # shellcheck disable=SC2206
  args+=($SERVE_ARGS)
  "$bin" serve --data-dir "$dir" --listen 127.0.0.1:0 --access-log "$TMP/$label.access.log" "${args[@]}" \
    >"$TMP/$label.out" 2>"$TMP/$label.err" &
  PIDS+=($!)
  local port=
  for _ in $(seq 100); do
    port=$(sed -n 's#^roster listening on http://[^ ]*:\([0-9]\+\)$#\1#p' "$TMP/$label.out")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "server ($label) did not start:" >&2; cat "$TMP/$label.err" >&2; exit 1; }
  local url=http://127.0.0.1:$port env id secret token
  env=$(json_get environmentId <<<"$app")
  id=$(json_get clientId <<<"$app")
  secret=$(json_get clientSecret <<<"$app")
  token=$(curl -fsS -u "$id:$secret" -d grant_type=client_credentials "$url/$env/as/token" | json_get access_token)
  printf -v "URL_$label" '%s' "$url"
  printf -v "TOKEN_$label" '%s' "$token"
  printf -v "ENV_$label" '%s' "$env"
}

rate() {  # wrk output -> 201s per second, and failures
  "$PY" - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
req = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", t).group(1))
secs = float(re.search(r"requests in ([\d.]+)(m?s)", t).group(1))
if re.search(r"requests in [\d.]+ms", t): secs /= 1000
bad = int(re.search(r"non-201 responses: (\d+)", t).group(1))
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else 0
print(f"{(req - bad) / secs:.1f} {bad + (sum(map(int, err.groups())) if err else 0)} {ms:.1f}")
PY
}

for ((b = 0; b < ${#BINS[@]}; b += 2)); do start "${BINS[b]}" "${BINS[b + 1]}"; done

echo "== group commit: PingOne password-free creates vs bare SQLite FULL one-row transactions"
echo "   uptime: $(uptime)"
echo "   disk: $(df -h "$TMP" | tail -1)"
: >"$TMP/rows"
last_bare=$(bare)
for ((r = 0; r < ROUNDS; r++)); do
  for c in $CONNECTIONS; do
    for ((b = 0; b < ${#BINS[@]}; b += 2)); do
      label=${BINS[b]}
      url_var=URL_$label token_var=TOKEN_$label env_var=ENV_$label
      ROSTER_API=pingone ROSTER_TOKEN=${!token_var} ROSTER_ENV=${!env_var} wrk -t"$(( c < THREADS ? c : THREADS ))" -c"$c" -d"${SLICE}s" \
        --latency -s bench/create.lua "${!url_var}" >"$TMP/wrk.txt"
      read -r rps failures p99 < <(rate "$TMP/wrk.txt")
      next_bare=$(bare)
      echo "$label $c $rps $failures $p99 $last_bare $next_bare" >>"$TMP/rows"
      printf '  round %d %-6s c=%-3s %9s creates/s (%s failed, p99 %s ms)  bare %s / %s txn/s\n' \
        $((r + 1)) "$label" "$c" "$rps" "$failures" "$p99" "$last_bare" "$next_bare"
      last_bare=$next_bare
    done
  done
done
echo "   uptime: $(uptime)"
"$PY" - "$TMP/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
out = {}
for label, c, rps, fail, p99, b0, b1 in rows:
    out.setdefault((label, int(c)), []).append((float(rps), int(fail), float(p99), (float(b0) + float(b1)) / 2))
print(f"{'binary':8} {'conns':>5} {'creates/s':>10} {'bare txn/s':>10} {'ratio':>6} {'p99 ms':>7} failed")
for (label, c), v in sorted(out.items(), key=lambda kv: (kv[0][1], kv[0][0] != "before")):
    ratios = [r / b for r, _, _, b in v if b]
    print(f"{label:8} {c:5d} {statistics.mean(r for r, *_ in v):10.1f} {statistics.mean(b for *_, b in v):10.1f} "
          f"{statistics.median(ratios):6.2f} {statistics.median(p for _, _, p, _ in v):7.1f} {sum(f for _, f, _, _ in v)}")
PY
