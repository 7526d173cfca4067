#!/usr/bin/env bash
# scripts/fuzz.sh — builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan, in
# build-fuzz/) and runs each for a while, starting from its seed corpus in fuzz/corpus/<target>/.
#
#   bash scripts/fuzz.sh                 every target, 25 s each, a new random seed each time
#   bash scripts/fuzz.sh -t 300 url      only fuzz_url, for 300 s
#   bash scripts/fuzz.sh --ci            what CI runs: every target replays its corpus, then
#                                        300,000 inputs from seed 1 (the same inputs on every
#                                        run of one commit, so a CI failure is one you can
#                                        reproduce, and a clean local run predicts CI's)
#
# New inputs go to a temporary directory, never into fuzz/corpus/ (add a good one by hand).
# A crash, a sanitizer report or a failed round trip stops that target; its input is kept as
# build-fuzz/crash-<target>-*, and the script exits 1 after running the others.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

seconds=25
runs=""
seed=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
  -t)
    seconds="$2"
    shift
    ;;
  --ci)
    runs=300000
    seed=1
    seconds=120 # only a cap: a slower machine stops early (and its run is no longer the same)
    ;;
  -h | --help)
    sed -n '2,14s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *) targets+=("$1") ;;
  esac
  shift
done

bash scripts/deps.sh --clang
build="$root/build-fuzz"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVSQL_WERROR=ON -DUVSQL_FUZZ=ON -DUVSQL_BUILD_TESTS=OFF \
  -DUVSQL_BUILD_EXAMPLES=OFF -DUVSQL_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"

if [ "${#targets[@]}" = 0 ]; then
  for f in "$build"/fuzz_*; do
    [ -x "$f" ] && targets+=("${f##*/fuzz_}")
  done
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
limits=(-max_total_time="$seconds")
[ -n "$runs" ] && limits+=(-runs="$runs" -seed="$seed")
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  echo "fuzz.sh: fuzz_$t ${runs:+$runs inputs from seed $seed, at most }${seconds}s"
  if "$build/fuzz_$t" "${limits[@]}" -print_final_stats=1 -max_len=4096 \
    -artifact_prefix="$build/crash-$t-" "$work/$t" "$root/fuzz/corpus/$t" \
    >"$work/$t.log" 2>&1; then
    echo "fuzz.sh: fuzz_$t: $(grep -m1 'stat::number_of_executed_units' "$work/$t.log" |
      awk '{print $2}') runs, no failure"
  else
    tail -n 40 "$work/$t.log" >&2
    echo "fuzz.sh: fuzz_$t FAILED (input kept as build-fuzz/crash-$t-*)" >&2
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" != 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s) ran without a failure"
