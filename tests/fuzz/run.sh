#!/usr/bin/env bash
# Runs fuzz targets for SECONDS seconds each, from the seeds in tests/fuzz/seeds/<target>/ (and,
# for the CSV reader, the malformed fixtures), keeping the corpus in the build folder. A crash
# leaves its input in BUILD/fuzz/crashes/ and fails the script: add it to the seeds as a
# regression input once fixed. The libFuzzer statistics (executions, peak memory) are printed
# at the end of each target. Each target is also a CTest test, fuzz.<target> (make fuzz).
#   Usage: run.sh BUILD_DIR SECONDS [TARGET...]   (default: every target)
set -euo pipefail
build=$1 seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv_reader county_skip date cron config http_target)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz/crashes"
status=0
for t in "${targets[@]}"; do
  corpus="$build/fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds=("$here/seeds/$t")
  [ "$t" = csv_reader ] && seeds+=("$here/../fixtures/malformed")
  echo "== $t: $seconds s"
  if ! "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/crashes/$t-" "$corpus" "${seeds[@]}" 2> "$build/fuzz/$t.log"; then
    echo "   CRASH: the log is $build/fuzz/$t.log, the input in $build/fuzz/crashes/; the report:"
    awk '/ERROR: |runtime error: |deadly signal|out-of-memory|Test unit written/ { p = 1 } p' \
      "$build/fuzz/$t.log" | grep -v '^    #[0-9]* 0x[0-9a-f]* in fuzzer::' | head -n 60 | sed 's/^/   | /'
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz/$t.log" | sed 's/^/   /' || true
  grep -E "^#[0-9]+ +DONE" "$build/fuzz/$t.log" | tail -n 1 | sed 's/^/   /' || true
done
exit $status
