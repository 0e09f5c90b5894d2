# Shared by bench scripts (source it): a Release `roster` and a server on a free port.
#   roster_bench_build          sets ROSTER_BIN (builds build-release/ unless ROSTER_BIN is set)
#   roster_bench_serve DATA LOG starts `roster serve` on 127.0.0.1:0 over DATA (stdout/stderr
#                               under LOG.*); sets SERVER_PID and URL; waits for /healthz
#   roster_bench_stop           SIGTERM to the server and waits for it
# The caller sets ROOT (the checkout) and removes its own temporary files.

roster_bench_build() {
  if [[ -z ${ROSTER_BIN:-} ]]; then
    local log
    log=$(cmake -S "$ROOT" -B "$ROOT/build-release" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF 2>&1) ||
      { echo "$log" >&2; return 1; }
    ninja -C "$ROOT/build-release" -j2 roster >&2
    ROSTER_BIN=$ROOT/build-release/src/cli/roster
  fi
}

SERVER_PID=
URL=
roster_bench_serve() {
  local data=$1 log=$2 port=
  shift 2
  "$ROSTER_BIN" serve --data-dir "$data" --listen 127.0.0.1:0 "$@" >"$log.out" 2>"$log.err" &
  SERVER_PID=$!
  for _ in $(seq 1200); do
    port=$(sed -n 's#^roster listening on http://[^ ]*:\([0-9]\+\)$#\1#p' "$log.out")
    [[ -n $port ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "server did not start:" >&2; cat "$log.err" >&2; return 1; }
  URL=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -fsS "$URL/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server does not answer /healthz" >&2
  return 1
}

roster_bench_stop() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
