#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds, from the seeds in tests/fuzz/seeds/<target>/ (and,
# for the CSV reader, the malformed fixtures), keeping the corpus in the build folder. A crash
# leaves its input in BUILD/fuzz/crashes/ and fails the script: add it to the seeds as a
# regression input once fixed.   Usage: run.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1 seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/fuzz/crashes"
status=0
for t in csv_reader date cron config; do
  corpus="$build/fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds=("$here/seeds/$t")
  [ "$t" = csv_reader ] && seeds+=("$here/../fixtures/malformed")
  echo "== $t: $seconds s"
  if ! "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/crashes/$t-" "$corpus" "${seeds[@]}" 2> "$build/fuzz/$t.log"; then
    echo "   CRASH: see $build/fuzz/$t.log and $build/fuzz/crashes/"
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz/$t.log" | sed 's/^/   /'
done
exit $status
