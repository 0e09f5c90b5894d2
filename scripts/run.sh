#!/usr/bin/env bash
# Installs what is missing, builds Release, initialises ./data on first run (printing
# the admin key once) and serves on 127.0.0.1:8080. Extra arguments go to `roster serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DROSTER_BUILD_TESTS=OFF >/dev/null
ninja -C build-release roster

bin=build-release/src/cli/roster
data="${ROSTER_DATA_DIR:-./data}"
if [[ ! -f "$data/master.key" ]]; then
  "$bin" init --data-dir "$data"
fi
exec "$bin" serve --data-dir "$data" --listen "${ROSTER_LISTEN:-127.0.0.1:8080}" "$@"
