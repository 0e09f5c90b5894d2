#!/usr/bin/env bash
# One-command benchmark: Release build, fresh data dir, server on a free port, then
# raw argon2id hashes/s vs password creates/s, and GET /v2/users/{id} vs /healthz.
# Knobs: DURATION (s, default 10), THREADS (wrk threads, 2), CONNECTIONS (GET and
# /healthz, 32), CREATE_CONNECTIONS (8), WORKERS (server --hash-threads and hash-bench
# threads, nproc), ARGON2_OPS (2), ARGON2_MEM_KIB (19456), SLICE (s per create/sign-in
# wrk slice, whole seconds, 2), HASH_SLICE (s per hash-bench slice, 1), ROSTER_BIN (use
# this roster binary instead of building one; for testing only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CREATE_CONNECTIONS=${CREATE_CONNECTIONS:-8}
WORKERS=${WORKERS:-$(nproc)}
ARGON2_OPS=${ARGON2_OPS:-2}
ARGON2_MEM_KIB=${ARGON2_MEM_KIB:-19456}
SLICE=${SLICE:-2}
HASH_SLICE=${HASH_SLICE:-1}
BUILD=build-release
PY=/usr/bin/python3
# wrk -d takes whole seconds; roster-hash-bench --seconds takes fractions.
[[ $SLICE =~ ^[1-9][0-9]*$ ]] || { echo "SLICE must be a whole number of seconds >= 1" >&2; exit 2; }
"$PY" -c 'import sys; sys.exit(not float(sys.argv[1]) > 0)' "$HASH_SLICE" 2>/dev/null ||
  { echo "HASH_SLICE must be a number of seconds > 0" >&2; exit 2; }
# K create (and K sign-in) slices, so each adds up to about DURATION seconds.
K=$("$PY" -c 'import sys; print(max(1, int(float(sys.argv[1]) / int(sys.argv[2]) + 0.5)))' "$DURATION" "$SLICE")

# --- build -------------------------------------------------------------------
targets=(roster-hash-bench roster-signin-timing-bench)
[[ -z ${ROSTER_BIN:-} ]] && targets+=(roster)
log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
  { echo "$log" >&2; exit 1; }
ninja -C "$BUILD" -j2 "${targets[@]}"
ROSTER_BIN=${ROSTER_BIN:-$ROOT/$BUILD/src/cli/roster}
HASH_BENCH=$ROOT/$BUILD/bench/roster-hash-bench
TIMING_BENCH=$ROOT/$BUILD/bench/roster-signin-timing-bench

# --- data dir and server -----------------------------------------------------
TMP=$(mktemp -d -t roster-bench.XXXXXX)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n ${PG_DIR:-} ]]; then "$ROOT/scripts/pg-test-cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# STORE=postgres runs the same figures against a throwaway PostgreSQL cluster on a free
# loopback port (durable: synchronous_commit on, fsync on).
STORE=${STORE:-sqlite}
INIT_ARGS=()
if [[ $STORE == postgres ]]; then
  PG_DIR=$(mktemp -d -t roster-bench-pg.XXXXXX)
  PG_DSN=$(PG_FSYNC=on "$ROOT/scripts/pg-test-cluster.sh" start "$PG_DIR")
  INIT_ARGS=(--database "$PG_DSN")
fi

json_get() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

ADMIN_KEY=$("$ROSTER_BIN" init --data-dir "$TMP/data" "${INIT_ARGS[@]}" --json | json_get adminKey)
APP_KEY=$("$ROSTER_BIN" key create --env default --role app --data-dir "$TMP/data" --json | json_get key)

# The sign-in budget is set out of reach: the bench measures the throttled path's cost
# (two counter writes per attempt), not refusals. wrk sends everything from one address
# with one key, so the request throttles are off (their cost, a map lookup, stays).
# SERVE_ARGS adds flags (empty to bench a binary that predates the throttles).
SERVE_ARGS=${SERVE_ARGS---throttle-per-address 0 --throttle-per-credential 0}
# shellcheck disable=SC2086
"$ROSTER_BIN" serve --data-dir "$TMP/data" --listen 127.0.0.1:0 --hash-threads "$WORKERS" \
  --signin-max-attempts 1000000 $SERVE_ARGS \
  --argon2-ops "$ARGON2_OPS" --argon2-memory-kib "$ARGON2_MEM_KIB" --access-log "$TMP/access.log" \
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
curl -fsS "$URL/healthz" >/dev/null || { echo "/healthz does not answer on $URL" >&2; exit 1; }
read -r LOAD _ </proc/loadavg
"$PY" -c "import sys; sys.exit(float('$LOAD') < 0.5)" &&
  echo "WARNING: load average $LOAD before the run; other work on this machine skews the figures" >&2
echo "server pid $SERVER_PID on $URL (workers=$WORKERS, argon2id t=$ARGON2_OPS m=${ARGON2_MEM_KIB}KiB)"

# wrk_stats FILE -> "rps p99_ms requests errors": rps counts only 2xx responses;
# errors = wrk's Non-2xx line or create.lua's non-200 count, plus socket errors.
wrk_stats() {
  "$PY" - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", t).group(1))
req = int(re.search(r"(\d+) requests in", t).group(1))
# create.lua's non-200 count and wrk's own Non-2xx line overlap: take the larger.
err = max([0] + [int(m) for m in re.findall(r"(?:Non-2xx or 3xx responses|non-200 responses):\s*(\d+)", t)])
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
err += sum(map(int, sock.groups())) if sock else 0
m = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)
p99 = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[m.group(2)] if m else float("nan")
ok = max(req - err, 0)
print(f"{rps * ok / req if req else 0:.2f} {p99:.3f} {req} {err}")
PY
}

# --- a+b. raw argon2id interleaved with password creates, then with sign-ins -------
# The raw hashing speed of a shared VM drifts from second to second, so the hash bench
# and wrk run in short alternating slices, H W H W ... W H (K wrk slices of SLICE s,
# K+1 hash slices of HASH_SLICE s), and each wrk slice is compared with the mean of the
# hash slices on either side of it. The reported ratio is the median of those
# per-slice ratios.
hash_slice() {
  "$HASH_BENCH" --threads "$WORKERS" --seconds "$HASH_SLICE" \
    --ops "$ARGON2_OPS" --mem-kib "$ARGON2_MEM_KIB" | json_get hashes_per_s
}

# Server CPU time (utime + stime of all its threads, clock ticks) from /proc.
server_cpu() {
  local s f
  read -r s <"/proc/$SERVER_PID/stat"
  s=${s##*) }
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}
# wrk stops with up to CREATE_CONNECTIONS requests still queued in the server, which
# keep hashing for a while: wait until the server's CPU time stops increasing over a
# 100 ms window (at most 2 s), so the next hash slice has the cores to itself.
# Sets IDLE_WAIT to the tenths of a second it waited.
wait_idle() {
  local prev cur
  prev=$(server_cpu)
  for ((IDLE_WAIT = 1; IDLE_WAIT <= 20; IDLE_WAIT++)); do
    sleep 0.1
    cur=$(server_cpu)
    [[ $cur == "$prev" ]] && return 0
    prev=$cur
  done
  IDLE_WAIT=20
}

# wrk_secs FILE -> wrk's own run time in seconds ("N requests in 2.00s").
wrk_secs() {
  "$PY" - "$1" <<'PY'
import re, sys
m = re.search(r"\d+ requests in ([\d.]+)(us|ms|s|m|h)\b", open(sys.argv[1]).read())
print(float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[m.group(2)])
PY
}

# interleave NAME SCRIPT [VAR=value ...]: runs H W H W ... W H with wrk -s SCRIPT (the
# VARs in its environment); writes $TMP/NAME.hashes (hashes/s per hash slice) and
# $TMP/NAME.slices ("2xx/s p99_ms requests errors seconds" per wrk slice).
interleave() {
  local name=$1 script=$2 i h rps p99 req err secs
  shift 2
  : >"$TMP/$name.hashes"
  : >"$TMP/$name.slices"
  for ((i = 0; ; i++)); do
    h=$(hash_slice)
    echo "$h" >>"$TMP/$name.hashes"
    echo "  hash slice $((i + 1))/$((K + 1)): $h hashes/s"
    ((i < K)) || break
    env "$@" wrk -t"$THREADS" -c"$CREATE_CONNECTIONS" -d"${SLICE}s" --latency -s "$script" "$URL" \
      >"$TMP/$name.$i.txt"
    wait_idle
    read -r rps p99 req err < <(wrk_stats "$TMP/$name.$i.txt")
    secs=$(wrk_secs "$TMP/$name.$i.txt")
    echo "$rps $p99 $req $err $secs" >>"$TMP/$name.slices"
    echo "  $name slice $((i + 1))/$K: $rps/s (2xx), p99 $p99 ms, $req requests in ${secs}s," \
      "$err errors; server idle after $((IDLE_WAIT / 10)).$((IDLE_WAIT % 10)) s"
    ((err == 0)) || cat "$TMP/$name.$i.txt"
  done
}

echo "== argon2id hash bench (${WORKERS} threads, ${HASH_SLICE}s slices) interleaved with" \
  "POST /v2/users (wrk -t$THREADS -c$CREATE_CONNECTIONS, $K x ${SLICE}s slices)"
interleave create bench/create.lua ROSTER_KEY="$APP_KEY" ROSTER_IDENTIFIER=bench

# --- b2. sign-ins of one (activated) user: argon2id verify + counter + session write -
SIGNIN_USER=bench-signin-user
SIGNIN_ID=$(curl -fsS -X POST "$URL/v2/users" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $APP_KEY" \
  -d "{\"username\":\"$SIGNIN_USER\",\"password\":\"pw-123456\",\"email\":{\"primary\":\"$SIGNIN_USER@example.com\"}}" \
  | json_get usersId)
curl -fsS -o /dev/null -X PUT "$URL/v2/users/$SIGNIN_ID" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $ADMIN_KEY" -d '{"active":true}'
echo "== argon2id hash bench (${WORKERS} threads, ${HASH_SLICE}s slices) interleaved with" \
  "POST /v2/auth/signin (wrk -t$THREADS -c$CREATE_CONNECTIONS, $K x ${SLICE}s slices)"
interleave signin bench/signin.lua ROSTER_KEY="$APP_KEY" ROSTER_USERNAME="$SIGNIN_USER"

# --- c. GET one user vs /healthz ---------------------------------------------
USER_ID=$(curl -fsS -X POST "$URL/v2/users" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $APP_KEY" \
  -d '{"username":"bench-get-user","password":"pw-123456","email":{"primary":"bench-get-user@example.com"}}' \
  | json_get usersId)
curl -fsS -o /dev/null "$URL/v2/users/$USER_ID" -H "X-Api-Key: browser bench $ADMIN_KEY"

# GET and /healthz alternate in K pairs of SLICE-second slices, for the same reason as
# above; the GET ratio is the median of the per-pair ratios, the rates are totals.
echo "== GET /v2/users/{id} and GET /healthz (wrk -t$THREADS -c$CONNECTIONS, $K x ${SLICE}s slices each)"
: >"$TMP/get.pairs"
for ((i = 0; i < K; i++)); do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SLICE}s" --latency -H "X-Api-Key: browser bench $ADMIN_KEY" \
    "$URL/v2/users/$USER_ID" >"$TMP/get.$i.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SLICE}s" --latency "$URL/healthz" >"$TMP/healthz.$i.txt"
  read -r g gp99 greq gerr < <(wrk_stats "$TMP/get.$i.txt")
  read -r z zp99 zreq zerr < <(wrk_stats "$TMP/healthz.$i.txt")
  echo "$g $gp99 $gerr $z $zp99 $zerr" >>"$TMP/get.pairs"
  echo "  pair $((i + 1))/$K: GET $g/s p99 $gp99 ms ($gerr errors), /healthz $z/s p99 $zp99 ms ($zerr errors)"
  ((gerr == 0)) || cat "$TMP/get.$i.txt"
done
read -r GET_RPS GET_P99 GET_ERR HZ_RPS HZ_P99 HZ_ERR GET_RATIO GET_RATIOS < <("$PY" - "$TMP/get.pairs" <<'PY'
import json, statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
col = lambda i: [r[i] for r in rows]
ratios = [round(r[0] / r[3], 3) if r[3] else 0.0 for r in rows]
print(f"{statistics.mean(col(0)):.2f} {statistics.median(col(1)):.3f} {int(sum(col(2)))} "
      f"{statistics.mean(col(3)):.2f} {statistics.median(col(4)):.3f} {int(sum(col(5)))} "
      f"{statistics.median(ratios):.3f} {json.dumps(ratios, separators=(',', ':'))}")
PY
)

# --- report ------------------------------------------------------------------
"$PY" - "$TMP" "$GET_RPS" "$GET_P99" "$GET_ERR" "$HZ_RPS" "$HZ_P99" "$HZ_ERR" "$GET_RATIO" "$GET_RATIOS" \
  "$WORKERS" "$ARGON2_OPS" "$ARGON2_MEM_KIB" "$DURATION" "$SLICE" "$HASH_SLICE" <<'PY'
import json, math, statistics, sys
a = sys.argv[1:]
tmp = a[0]
g, gp99, gerr, z, zp99, zerr, gratio = map(float, a[1:8])
get_ratios = json.loads(a[8])

def seq(name):
    """Per-slice figures of one interleaved H W H ... W H sequence."""
    hashes = [float(l) for l in open(f"{tmp}/{name}.hashes").read().split()]
    slices = [list(map(float, l.split())) for l in open(f"{tmp}/{name}.slices") if l.strip()]
    assert len(hashes) == len(slices) + 1, (name, hashes, slices)
    ratios = []
    for i, (rps, _, _, _, _) in enumerate(slices):
        h = (hashes[i] + hashes[i + 1]) / 2
        ratios.append(round(rps / h, 3) if h else None)
    ok = sum(rps * secs for rps, _, _, _, secs in slices)  # 2xx responses
    secs = sum(s[4] for s in slices)
    p99s = [s[1] for s in slices if not math.isnan(s[1])]
    valid = [x for x in ratios if x is not None]
    return {
        "hashes": hashes, "per_s": ok / secs if secs else 0.0,
        "ratio": round(statistics.median(valid), 3) if valid else None, "ratios": ratios,
        "p99": round(statistics.median(p99s), 3) if p99s else float("nan"),
        "errors": int(sum(s[3] for s in slices)),
    }

cr, si = seq("create"), seq("signin")
all_hashes = cr["hashes"] + si["hashes"]
h = statistics.mean(all_hashes)
c, cp99, cerr = cr["per_s"], cr["p99"], cr["errors"]
s, sp99, serr = si["per_s"], si["p99"], si["errors"]
r = {
    "hashes_per_s": round(h, 2), "creates_per_s": round(c, 2),
    "create_ratio": cr["ratio"], "create_p99_ms": cp99,
    "get_rps": round(g, 2), "get_p99_ms": gp99, "healthz_rps": round(z, 2), "healthz_p99_ms": zp99,
    "get_ratio": gratio, "get_ratios": get_ratios,
    "errors": {"create": cerr, "get": int(gerr), "healthz": int(zerr)},
    "workers": int(a[9]), "argon2_ops": int(a[10]), "argon2_mem_kib": int(a[11]), "duration_s": float(a[12]),
}
r.update({"signins_per_s": round(s, 2), "signin_ratio": si["ratio"], "signin_p99_ms": sp99})
r["errors"]["signin"] = serr
r.update({"create_ratios": cr["ratios"], "signin_ratios": si["ratios"],
          "slices": {"count": len(cr["ratios"]), "slice_s": int(a[13]), "hash_slice_s": float(a[14])}})
ok = lambda v, t: "ok" if v is not None and v >= t else "BELOW TARGET"
k = len(cr["ratios"])
print()
print(f"{'figure':<28}{'value':>14}  notes")
print(f"{'argon2id hashes/s':<28}{h:>14.2f}  raw libsodium, {r['workers']} threads; mean of {len(all_hashes)}"
      f" slices, min {min(all_hashes):.2f} max {max(all_hashes):.2f}")
print(f"{'password creates/s':<28}{c:>14.2f}  POST /v2/users, 2xx only, p99 {cp99:.1f} ms (median of {k} slices)")
print(f"{'create ratio':<28}{r['create_ratio'] or 0:>14.3f}  target >= 0.9: {ok(r['create_ratio'], 0.9)};"
      f" median of {cr['ratios']}")
print(f"{'sign-ins/s':<28}{s:>14.2f}  POST /v2/auth/signin, 2xx only, p99 {sp99:.1f} ms;"
      f" ratio {r['signin_ratio'] or 0:.3f} (median of {si['ratios']})")
print(f"{'GET /v2/users/{id} req/s':<28}{g:>14.2f}  p99 {gp99:.3f} ms")
print(f"{'/healthz req/s':<28}{z:>14.2f}  p99 {zp99:.3f} ms")
print(f"{'GET ratio':<28}{r['get_ratio'] or 0:>14.3f}  target >= 0.4: {ok(r['get_ratio'], 0.4)};"
      f" median of {get_ratios}")
if cerr or gerr or zerr or serr:
    print(f"WARNING: error responses: {r['errors']}")
print(json.dumps(r))
PY

# --- d. what a wrong password costs, by who it is for (issue 12) ----------------
# Median UserService::SignIn time with a wrong password for an unknown user, an {SSHA}
# imported user and an argon2id user, next to a raw argon2id verification; in process,
# on its own SQLite file, after the server's runs (TIMING_SAMPLES, 41).
echo
echo "== wrong-password sign-in timing (roster-signin-timing-bench, argon2id t=$ARGON2_OPS m=${ARGON2_MEM_KIB}KiB)"
"$TIMING_BENCH" --samples "${TIMING_SAMPLES:-41}" --ops "$ARGON2_OPS" --mem-kib "$ARGON2_MEM_KIB"
