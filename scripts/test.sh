#!/usr/bin/env bash
# Installs what is missing, builds everything with tests, and runs every test:
# unit tests beside the code and integration tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Debug -DROSTER_BUILD_TESTS=ON >/dev/null
ninja -C build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 300 -j"$(nproc)"
