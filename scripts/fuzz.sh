#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/testing.md) under ASan and UBSan and runs
# each for SECONDS (default 20) from its committed corpus (fuzz/corpus/<target>/).
# Fails on a finding and prints the reproducer: the crashing input is kept in
# $ROSTER_FUZZ_OUT (default build-asan/fuzz-findings) and replays with
#   build-asan/fuzz/<target> <file>
#
# usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#        scripts/fuzz.sh --total SECONDS [TARGET...]   SECONDS split evenly across the targets
#        scripts/fuzz.sh --merge [TARGET...]           minimize fuzz/corpus/<target>/ with
#                                                      what the last runs found (-merge=1)
# Environment: ROSTER_FUZZ_BUILD (build directory, default build-asan), ROSTER_FUZZ_JOBS
# (targets run at once, default 1), ROSTER_FUZZ_SKIP_BUILD=1 (do not run ninja first),
# CXX/CC (default clang++-16/clang-16).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
seconds=20
case "${1:-}" in
  --total) mode=total; seconds="$2"; shift 2 ;;
  --merge) mode=merge; shift ;;
  ''|*[!0-9]*) ;;
  *) seconds="$1"; shift ;;
esac

build="${ROSTER_FUZZ_BUILD:-build-asan}"
out="${ROSTER_FUZZ_OUT:-$build/fuzz-findings}"
jobs="${ROSTER_FUZZ_JOBS:-1}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

if [[ ! -f "$build/build.ninja" ]] || ! grep -q '^ROSTER_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  CC="${CC:-clang-16}" CXX="${CXX:-clang++-16}" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DROSTER_BUILD_TESTS=ON -DROSTER_FUZZ=ON >/dev/null
fi
all=()
for f in fuzz/fuzz_*.cc; do all+=("$(basename "$f" .cc)"); done
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all[@]}")
# ROSTER_FUZZ_SKIP_BUILD=1: the targets are built already (scripts/test.sh builds the
# whole tree first; or another ninja is still building the rest of the tree).
[[ "${ROSTER_FUZZ_SKIP_BUILD:-0}" == 1 ]] || ninja -C "$build" -j"$(nproc)" "${targets[@]}" >/dev/null

if [[ $mode == total ]]; then
  seconds=$(( seconds / ${#targets[@]} ))
  (( seconds > 0 )) || seconds=1
fi

# Halt on the first finding of either sanitizer, with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:symbolize=1}"
# Stacks with function names and lines.
if [[ -z "${ASAN_SYMBOLIZER_PATH:-}" ]] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
fi
mkdir -p "$out"

if [[ $mode == merge ]]; then
  for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "$out/$t.corpus"
    merged="$(mktemp -d)"
    "$build/fuzz/$t" -merge=1 -max_len=4096 "$merged" "fuzz/corpus/$t" "$out/$t.corpus" >/dev/null 2>&1
    rm -rf "fuzz/corpus/$t" && mv "$merged" "fuzz/corpus/$t"
    echo "$t: $(ls "fuzz/corpus/$t" | wc -l) inputs in fuzz/corpus/$t"
  done
  exit 0
fi

# One target: SECONDS of fuzzing from the committed corpus; new inputs go to
# $out/<target>.corpus (never into the committed corpus: see --merge).
run_one() {
  local t="$1" log="$out/$1.log"
  mkdir -p "$out/$t.corpus" "fuzz/corpus/$t"
  local start=$SECONDS
  if "$build/fuzz/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$out/$t-" "$out/$t.corpus" "fuzz/corpus/$t" >"$log" 2>&1; then
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "ok   $t: $((SECONDS - start)) s, $runs runs"
    return 0
  fi
  echo "FAIL $t: finding after $((SECONDS - start)) s"
  grep -E '^(==[0-9]+==ERROR|SUMMARY|FINDING|.*runtime error)' "$log" | head -5 | sed 's/^/     /'
  local artifact
  artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
  if [[ -n "$artifact" ]]; then
    echo "     reproducer: $artifact ($(stat -c %s "$artifact") bytes), replay: $build/fuzz/$t $artifact"
    echo "     base64: $(head -c 2048 "$artifact" | base64 -w0)"
  fi
  echo "     log: $log"
  return 1
}

failed=0
for t in "${targets[@]}"; do
  if (( jobs > 1 )); then
    while (( $(jobs -rp | wc -l) >= jobs )); do wait -n || failed=1; done
    run_one "$t" &
  else
    run_one "$t" || failed=1
  fi
done
while (( $(jobs -rp | wc -l) > 0 )); do wait -n || failed=1; done
exit $failed
