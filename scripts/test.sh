#!/usr/bin/env bash
# Installs what is missing, builds everything with tests, starts a throwaway PostgreSQL
# cluster on a free loopback port, and runs every test: unit tests, the store
# conformance suite and the integration suite against SQLite and against PostgreSQL;
# then every suite again under ASan+UBSan (the pg.* variants aside) and a short run of
# every fuzz target (ROSTER_TEST_SANITIZERS=quick|0 does less; docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test
scripts/sdk-setup.sh
export ROSTER_QB_SDK_DIR="$PWD/tests/sdk/quickblox"
# ccache: paths relative to the checkout and no working directory in the hash, so a
# fresh clone reuses what any earlier build of the same sources compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Debug -DROSTER_BUILD_TESTS=ON >/dev/null
ninja -C build -j"$(nproc)"

pg_dir="$(mktemp -d /tmp/roster-pg-XXXXXX)"
root="$PWD"
# Absolute path: the tests run from build/, and the cluster must stop whatever happens.
trap '"$root/scripts/pg-test-cluster.sh" stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
ROSTER_TEST_POSTGRES_DSN="$(scripts/pg-test-cluster.sh start "$pg_dir")"
export ROSTER_TEST_POSTGRES_DSN

cd build
ctest --output-on-failure --timeout 300 -j"$(nproc)"

# 2. The suites under AddressSanitizer and UndefinedBehaviorSanitizer (clang-16,
# build-asan), then 3. a short run of every fuzz target (scripts/fuzz.sh 20).
# ROSTER_TEST_SANITIZERS selects how much (docs/testing.md says what each covers and costs):
#   full (the default): every suite but the pg.* variants, built and run under ASan+UBSan;
#   quick: the unit and store suites and the fuzz targets only (no integration programs);
#   0:     neither (the normal suite only).
sanitizers="${ROSTER_TEST_SANITIZERS:-full}"
[[ $sanitizers == 1 ]] && sanitizers=full
if [[ $sanitizers != 0 ]]; then
  cd "$root"
  CC=clang-16 CXX=clang++-16 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DROSTER_BUILD_TESTS=ON \
    -DROSTER_FUZZ=ON >/dev/null
  if [[ $sanitizers == full ]]; then
    ninja -C build-asan -j"$(nproc)"
  else
    ninja -C build-asan -j"$(nproc)" unit_tests fuzzers
  fi
  (
    cd build-asan
    export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    # The pg.* variants run the same server code over the PostgreSQL adapter: SQLite only
    # here (the PostgreSQL store suite does run: its adapter is code of its own).
    if [[ $sanitizers == full ]]; then
      ctest --output-on-failure --timeout 600 -j"$(nproc)" -E '^pg\.'
    else
      # (the integration programs are not built: their placeholders, *_NOT_BUILT, skipped)
      ctest --output-on-failure --timeout 600 -j"$(nproc)" -E '^pg\.|_NOT_BUILT$' -LE integration
    fi
  )
  ROSTER_FUZZ_SKIP_BUILD=1 scripts/fuzz.sh 20
fi
