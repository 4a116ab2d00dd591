#!/usr/bin/env bash
# Run every coverage-guided fuzz target for SECONDS each (default 60) and
# print the executions per target. Exits 1 when any target finds a crash
# (the input is saved under fuzz/artifacts/<target>/), 2 when a target does
# not build or run.
#
#   fuzz/run.sh          # 60 s per target
#   fuzz/run.sh 30       # 30 s per target
#   TARGETS="jwks plan" fuzz/run.sh 10
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the
# sanitizer flags need RUSTC_BOOTSTRAP=1, which this script sets.
# Seeds come from fuzz/seeds/<target>/ (committed, copied from fixtures/);
# the growing corpus goes to fuzz/corpus/<target>/ (not committed).
set -u
secs="${1:-60}"
case "$secs" in '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.." || exit 2
export RUSTC_BOOTSTRAP=1
targets="${TARGETS:-$(cargo fuzz list)}"
cargo fuzz build -O >/dev/null 2>&1 || { echo "fuzz targets do not build: run cargo fuzz build -O" >&2; exit 2; }
failed=0
printf '%-12s %12s %8s  %s\n' target executions seconds result
for t in $targets; do
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
  log="fuzz/corpus/$t.log"
  extra=()
  # scan_reader runs scan's worker threads. std::thread::scope returns when
  # their closures end, which can be just before each thread frees glibc's
  # 32-byte thread-local destructor entry, and LeakSanitizer's check after
  # an input then reports that entry as a leak (it does not reproduce).
  [ "$t" = scan_reader ] && extra=(-detect_leaks=0)
  cargo fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 -timeout=5 -rss_limit_mb=2048 \
    "${extra[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="CRASH (exit $rc, see $log and fuzz/artifacts/$t/)"
    failed=1
  fi
  printf '%-12s %12s %8s  %s\n' "$t" "${execs:-?}" "$secs" "$result"
done
exit "$failed"
