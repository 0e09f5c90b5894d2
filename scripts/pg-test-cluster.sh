#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#   scripts/pg-test-cluster.sh start DIR   creates and starts a cluster in DIR (which must
#                                          be absent or empty) and prints its DSN on stdout
#   scripts/pg-test-cluster.sh stop DIR    stops it and removes DIR
#   scripts/pg-test-cluster.sh pause DIR   stops the server, keeping DIR (tests of an outage)
#   scripts/pg-test-cluster.sh resume DIR  starts it again on the same port
# The server listens on 127.0.0.1 only, on a port the kernel reports free, with trust
# authentication: never use it for anything but tests. Works as root (the server then
# runs as the postgres user, which PostgreSQL requires) and as an ordinary user.
# ROSTER_PG_BIN overrides the directory holding initdb and pg_ctl.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|pause|resume DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
dir=$(realpath -m -- "$2")
marker="$dir/.roster-pg-test-cluster"  # stop removes only directories start created

pg_bin=${ROSTER_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[[ -x "$pg_bin/pg_ctl" ]] || { echo "pg_ctl not found (install postgresql or set ROSTER_PG_BIN)" >&2; exit 1; }

# PostgreSQL refuses to run as root; run it as postgres then, from a directory that user
# can enter (runuser keeps the caller's cwd, often /root).
as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

start() {
  if [[ -e "$dir" && -n "$(ls -A -- "$dir")" ]]; then
    echo "$dir exists and is not empty" >&2
    exit 1
  fi
  # The server's Unix socket lives in DIR; sun_path holds at most 107 bytes.
  if (( ${#dir} > 80 )); then
    echo "$dir is too long for a Unix socket directory; choose a shorter path" >&2
    exit 1
  fi
  mkdir -p -- "$dir"
  touch -- "$marker"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: -- "$dir"
    if ! runuser -u postgres -- test -w "$dir" -a -x "$dir"; then
      echo "the postgres user cannot reach $dir (check the parent directories' permissions)" >&2
      exit 1
    fi
  fi

  # Durability is pointless in a throwaway test cluster; -N and fsync=off make tests
  # faster. Benchmarks set PG_FSYNC=on to measure durable commits.
  as_server_user "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale -N \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = ${PG_FSYNC:-off}
max_connections = 200
EOF

  # The kernel's free port can be taken by someone else before the server binds it;
  # retry with a fresh one rather than fail.
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c port=$port" start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      echo "postgresql://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
    grep -q "could not bind" "$dir/server.log" 2>/dev/null || break
  done
  echo "cannot start PostgreSQL in $dir; server log:" >&2
  tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
  exit 1
}

stop() {
  [[ -e "$dir" ]] || return 0
  if [[ ! -e "$marker" ]]; then
    echo "$dir was not created by $0 start; not touching it" >&2
    exit 1
  fi
  if [[ -e "$dir/data/postmaster.pid" ]]; then
    as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -rf -- "$dir"
}

pause() {
  [[ -e "$marker" ]] || { echo "$dir was not created by $0 start" >&2; exit 1; }
  as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

resume() {
  [[ -e "$marker" && -e "$dir/port" ]] || { echo "$dir was not created by $0 start" >&2; exit 1; }
  as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c port=$(cat "$dir/port")" start >/dev/null
}

case "$action" in
  start) start ;;
  stop) stop ;;
  pause) pause ;;
  resume) resume ;;
  *) usage ;;
esac
