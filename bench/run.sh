#!/usr/bin/env bash
# One-command benchmark: Release build, fresh data dir, server on a free port, then
# raw argon2id hashes/s vs password creates/s, and GET /v2/users/{id} vs /healthz.
# Knobs: DURATION (s, default 10), THREADS (wrk threads, 2), CONNECTIONS (GET and
# /healthz, 32), CREATE_CONNECTIONS (8), WORKERS (server --hash-threads and hash-bench
# threads, nproc), ARGON2_OPS (2), ARGON2_MEM_KIB (19456), ROSTER_BIN (use this
# roster binary instead of building one; for testing only).
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
BUILD=build-release
PY=/usr/bin/python3

# --- build -------------------------------------------------------------------
targets=(roster-hash-bench)
[[ -z ${ROSTER_BIN:-} ]] && targets+=(roster)
log=$(cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
  { echo "$log" >&2; exit 1; }
ninja -C "$BUILD" -j2 "${targets[@]}"
ROSTER_BIN=${ROSTER_BIN:-$ROOT/$BUILD/src/cli/roster}
HASH_BENCH=$ROOT/$BUILD/bench/roster-hash-bench

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
# (one counter write per attempt), not refusals.
"$ROSTER_BIN" serve --data-dir "$TMP/data" --listen 127.0.0.1:0 --hash-threads "$WORKERS" \
  --signin-max-attempts 1000000 \
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

# --- a+b. raw argon2id, then password creates, then argon2id again ---------------
# The hash bench runs half the duration before and half after the creates and the two
# are averaged, so a change in background load skews both sides of the ratio alike.
hash_bench() {
  "$HASH_BENCH" --threads "$WORKERS" --seconds "$("$PY" -c "print($DURATION / 2)")" \
    --ops "$ARGON2_OPS" --mem-kib "$ARGON2_MEM_KIB" | tee /dev/stderr | json_get hashes_per_s
}
echo "== argon2id hash bench (${WORKERS} threads, 2 x $DURATION/2 s)"
HASHES_BEFORE=$(hash_bench)

echo "== POST /v2/users (wrk -t$THREADS -c$CREATE_CONNECTIONS -d${DURATION}s)"
ROSTER_KEY=$APP_KEY ROSTER_IDENTIFIER=bench wrk -t"$THREADS" -c"$CREATE_CONNECTIONS" -d"${DURATION}s" \
  --latency -s bench/create.lua "$URL" | tee "$TMP/create.txt"
read -r CREATES CREATE_P99 CREATE_REQ CREATE_ERR < <(wrk_stats "$TMP/create.txt")

HASHES_AFTER=$(hash_bench)
HASHES=$("$PY" -c "print(($HASHES_BEFORE + $HASHES_AFTER) / 2)")

# --- b2. sign-ins of one (activated) user: argon2id verify + counter + session write -
SIGNIN_USER=bench-signin-user
SIGNIN_ID=$(curl -fsS -X POST "$URL/v2/users" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $APP_KEY" \
  -d "{\"username\":\"$SIGNIN_USER\",\"password\":\"pw-123456\",\"email\":{\"primary\":\"$SIGNIN_USER@example.com\"}}" \
  | json_get usersId)
curl -fsS -o /dev/null -X PUT "$URL/v2/users/$SIGNIN_ID" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $ADMIN_KEY" -d '{"active":true}'
echo "== POST /v2/auth/signin (wrk -t$THREADS -c$CREATE_CONNECTIONS -d${DURATION}s)"
ROSTER_KEY=$APP_KEY ROSTER_USERNAME=$SIGNIN_USER wrk -t"$THREADS" -c"$CREATE_CONNECTIONS" -d"${DURATION}s" \
  --latency -s bench/signin.lua "$URL" | tee "$TMP/signin.txt"
read -r SIGNINS SIGNIN_P99 SIGNIN_REQ SIGNIN_ERR < <(wrk_stats "$TMP/signin.txt")

# --- c. GET one user vs /healthz ---------------------------------------------
USER_ID=$(curl -fsS -X POST "$URL/v2/users" -H "Content-Type: application/json" \
  -H "X-Api-Key: browser bench $APP_KEY" \
  -d '{"username":"bench-get-user","password":"pw-123456","email":{"primary":"bench-get-user@example.com"}}' \
  | json_get usersId)
curl -fsS -o /dev/null "$URL/v2/users/$USER_ID" -H "X-Api-Key: browser bench $ADMIN_KEY"

echo "== GET /v2/users/{id} (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "X-Api-Key: browser bench $ADMIN_KEY" \
  "$URL/v2/users/$USER_ID" | tee "$TMP/get.txt"
read -r GET_RPS GET_P99 GET_REQ GET_ERR < <(wrk_stats "$TMP/get.txt")

echo "== GET /healthz (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL/healthz" | tee "$TMP/healthz.txt"
read -r HZ_RPS HZ_P99 HZ_REQ HZ_ERR < <(wrk_stats "$TMP/healthz.txt")

# --- report ------------------------------------------------------------------
"$PY" - "$HASHES" "$CREATES" "$CREATE_P99" "$CREATE_ERR" "$GET_RPS" "$GET_P99" "$GET_ERR" \
  "$HZ_RPS" "$HZ_P99" "$HZ_ERR" "$WORKERS" "$ARGON2_OPS" "$ARGON2_MEM_KIB" "$DURATION" \
  "$SIGNINS" "$SIGNIN_P99" "$SIGNIN_ERR" <<'PY'
import json, sys
a = sys.argv[1:]
h, c, cp99, cerr, g, gp99, gerr, z, zp99, zerr = map(float, a[:10])
r = {
    "hashes_per_s": round(h, 2), "creates_per_s": round(c, 2),
    "create_ratio": round(c / h, 3) if h else None, "create_p99_ms": cp99,
    "get_rps": round(g, 2), "get_p99_ms": gp99, "healthz_rps": round(z, 2), "healthz_p99_ms": zp99,
    "get_ratio": round(g / z, 3) if z else None,
    "errors": {"create": int(cerr), "get": int(gerr), "healthz": int(zerr)},
    "workers": int(a[10]), "argon2_ops": int(a[11]), "argon2_mem_kib": int(a[12]), "duration_s": float(a[13]),
}
s, sp99, serr = map(float, a[14:17])
r.update({"signins_per_s": round(s, 2), "signin_ratio": round(s / h, 3) if h else None, "signin_p99_ms": sp99})
r["errors"]["signin"] = int(serr)
ok = lambda v, t: "ok" if v is not None and v >= t else "BELOW TARGET"
print()
print(f"{'figure':<28}{'value':>14}  notes")
print(f"{'argon2id hashes/s':<28}{h:>14.2f}  raw libsodium, {r['workers']} threads")
print(f"{'password creates/s':<28}{c:>14.2f}  POST /v2/users, 2xx only, p99 {cp99:.1f} ms")
print(f"{'create ratio':<28}{r['create_ratio'] or 0:>14.3f}  target >= 0.9: {ok(r['create_ratio'], 0.9)}")
print(f"{'sign-ins/s':<28}{s:>14.2f}  POST /v2/auth/signin, 2xx only, p99 {sp99:.1f} ms; ratio {r['signin_ratio'] or 0:.3f}")
print(f"{'GET /v2/users/{id} req/s':<28}{g:>14.2f}  p99 {gp99:.3f} ms")
print(f"{'/healthz req/s':<28}{z:>14.2f}  p99 {zp99:.3f} ms")
print(f"{'GET ratio':<28}{r['get_ratio'] or 0:>14.3f}  target >= 0.4: {ok(r['get_ratio'], 0.4)}")
if cerr or gerr or zerr or serr:
    print(f"WARNING: error responses: {r['errors']}")
print(json.dumps(r))
PY
