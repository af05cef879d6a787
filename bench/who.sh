#!/usr/bin/env bash
# The world dataset's load (issue 17, Speed): the WHO file into an empty SQLite database (goal
# < 1 s) and an unchanged rerun (goal < 0.1 s), beside pandas' read_csv + to_sql on the same file
# in the same run. Two files: the real 2021-02-16 daily copy (97,407 rows) and a daily file of the
# real one's size (~554,000 rows) made from the 2026 weekly copy (bench/who/expand_daily.py),
# since no copy of the WHO's ~500,000-row daily file could be saved (../shared/data/who/SOURCES.md).
#
# Usage (from the repo root):  bash bench/who.sh      Knobs: BIN=build/covid-etl RUNS=5
# Prints, per file and tool, the median wall time of RUNS runs and the peak RSS of one run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/covid-etl}
RUNS=${RUNS:-5}
PY=/usr/bin/python3
WHO=../shared/data/who
SCRATCH=${SCRATCH:-build/bench/who-scratch}
[ -x "$BIN" ] || { echo "$BIN missing: make build" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
printf '[datasets]\nnational = false\nstates = false\n' >"$SCRATCH/world.toml"
"$PY" bench/who/expand_daily.py "$WHO/WHO-COVID-19-global-data-2026-04-26.csv" "$SCRATCH/daily-554k.csv"

fresh() { rm -f "$1" "$1-wal" "$1-shm" "$1-live"; }
# median of RUNS wall times (s) of a command; $1: a setup command run before each
median() {
  local setup=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    eval "$setup"
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
rss() {  # peak RSS in MB of one run
  /usr/bin/time -f '%M' -o "$SCRATCH/rss" "$@" >/dev/null 2>&1 || true
  awk '{printf "%.1f", $1/1024}' "$SCRATCH/rss"
}

printf '%-28s %-30s %10s %12s\n' file tool "median s" "peak RSS MB"
for f in "$WHO/WHO-COVID-19-global-data-2021-02-16.csv" "$SCRATCH/daily-554k.csv"; do
  rows=$(($(wc -l <"$f") - 1))
  name="$(basename "$f") ($rows rows)"
  db=$SCRATCH/ours.db
  ours=("$BIN" run --config "$SCRATCH/world.toml" --who "$f" --db "$db")
  t=$(median "fresh $db" "${ours[@]}"); fresh "$db"; m=$(rss "${ours[@]}")
  printf '%-28s %-30s %10s %12s\n' "$name" "covid-etl, empty database" "$t" "$m"
  n=$(sqlite3 "$db" "SELECT count(*) FROM observations WHERE location = 'NAM'")
  [ "$n" -gt 0 ] || { echo "covid-etl lost Namibia" >&2; exit 1; }
  t=$(median ":" "${ours[@]}"); m=$(rss "${ours[@]}")
  printf '%-28s %-30s %10s %12s\n' "" "covid-etl, unchanged rerun" "$t" "$m"
  pdb=$SCRATCH/pandas.db
  pandas=("$PY" bench/who/pandas_load.py "$f" "$pdb")
  t=$(median "fresh $pdb" "${pandas[@]}"); fresh "$pdb"; m=$(rss "${pandas[@]}")
  printf '%-28s %-30s %10s %12s\n' "" "pandas read_csv + to_sql" "$t" "$m"
done
