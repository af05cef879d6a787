#!/usr/bin/env bash
# End-to-end benchmark of the national run: covid-etl against pandas, the sqlite3 shell and DuckDB,
# all doing the same job on the same files (NYT us.csv + JHU combined -> 820 keyed rows).
#
# Usage (from the repo root):  bash bench/national.sh
# Knobs (environment): RUNS_OURS=10 RUNS_OTHERS=5 WARMUP=2 NYT=... JHU=... BIN=build/covid-etl
#                      NO_BUILD=1 (do not run `make build` when BIN is missing)
#                      SCRATCH=build/bench/national-scratch (where the databases go)
#                      OURS_TABLE=<table> (default: the table of covid-etl's database with a
#                      `recovered` column)
#
# For each tool: one run under /usr/bin/time for peak RSS, whose output is checked (820 rows and
# three known values: OK/MISMATCH); then WARMUP + N timed runs of the whole process, each on a
# fresh database file (deleted before every run), with hyperfine (a plain loop if hyperfine cannot
# be had). Prints median wall time, peak RSS and the ratio to covid-etl (their time / ours);
# exits 1 if any tool failed or its output did not check out.
# Installs missing prerequisites (python3-pandas, sqlite3, hyperfine, time via apt; npm ci in
# bench/). Writes only to bench/node_modules and $SCRATCH.
set -euo pipefail
cd "$(dirname "$0")/.."

NYT=${NYT:-../shared/data/nyt/us.csv}
JHU=${JHU:-../shared/data/jhu/time-series-19-covid-combined.csv}
BIN=${BIN:-build/covid-etl}
RUNS_OURS=${RUNS_OURS:-10} RUNS_OTHERS=${RUNS_OTHERS:-5} WARMUP=${WARMUP:-2}
SCRATCH=${SCRATCH:-build/bench/national-scratch}
PY=/usr/bin/python3
EXPECTED='820|6298082|29569140|536491|NULL'

say() { printf '== %s\n' "$*" >&2; }
apt_install() {
  say "installing $*"
  local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q "$@" >/dev/null || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}

# 1. Prerequisites.
[ -f "$NYT" ] && [ -f "$JHU" ] || { echo "data files not found: $NYT $JHU" >&2; exit 1; }
"$PY" -c 'import pandas' 2>/dev/null || apt_install python3-pandas
command -v sqlite3 >/dev/null || apt_install sqlite3
[ -x /usr/bin/time ] || apt_install time
command -v hyperfine >/dev/null || apt_install hyperfine || say "no hyperfine: timing with a shell loop"
command -v node >/dev/null || { echo "node (v20) is needed for the DuckDB baseline" >&2; exit 1; }
[ -d bench/node_modules/@duckdb/node-api ] || (cd bench && npm ci --no-audit --no-fund)
if [ ! -x "$BIN" ] && [ -z "${NO_BUILD:-}" ]; then
  say "$BIN missing: running make build (NO_BUILD=1 skips this)"
  make build || true
fi
[ -x "$BIN" ] || say "$BIN still missing (see 'make build'): benchmarking the other tools only"

rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"

# 2. The tools: name, database file, command (the database path is its last argument).
names=() dbs=() cmds=()
add() { names+=("$1"); dbs+=("$SCRATCH/$2"); cmds+=("$3 $SCRATCH/$2"); }
[ -x "$BIN" ] && add covid-etl ours.db "$BIN run --nyt $NYT --jhu $JHU --json --db"
add pandas      pandas.db  "$PY bench/national/pandas_etl.py $NYT $JHU"
add sqlite3-cli sqlite.db  "bash bench/national/sqlite_cli.sh $NYT $JHU"
add duckdb      duck.duckdb "node bench/national/duckdb_etl.mjs $NYT $JHU"

check_sql() {  # one line: rows|recovered 2020-12-13|cases 2021-03-16|deaths 2021-03-16|2020-12-14 recovered
  local t=$1
  echo "SELECT count(*),
    (SELECT recovered FROM $t WHERE date = '2020-12-13'),
    (SELECT cases FROM $t WHERE date = '2021-03-16'),
    (SELECT deaths FROM $t WHERE date = '2021-03-16'),
    (SELECT CASE WHEN recovered IS NULL THEN 'NULL' ELSE 'not null' END FROM $t WHERE date = '2020-12-14')
  FROM $t"
}
check() {  # name db -> prints the check line
  case $1 in
    duckdb) node bench/national/duckdb_query.mjs "$2" "$(check_sql national)" ;;
    covid-etl)
      local t=${OURS_TABLE:-$(sqlite3 "$2" "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
                                            WHERE m.type = 'table' AND p.name = 'recovered' LIMIT 1")}
      sqlite3 "$2" "$(check_sql "${t:-national}")" ;;
    *) sqlite3 "$2" "$(check_sql national)" ;;
  esac
}
fresh() { rm -f "$1" "$1-journal" "$1-wal" "$1-shm" "$1.wal"; }

# 3. Run, check, time.
declare -A ms rss status
for i in "${!names[@]}"; do
  name=${names[$i]} db=${dbs[$i]} cmd=${cmds[$i]}
  runs=$RUNS_OTHERS; [ "$name" = covid-etl ] && runs=$RUNS_OURS
  say "$name: $cmd"
  fresh "$db"
  if ! /usr/bin/time -f %M -o "$SCRATCH/$name.rss" $cmd >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"; then
    status[$name]=FAILED; say "$name failed:"; tail -5 "$SCRATCH/$name.err" >&2; continue
  fi
  rss[$name]=$(awk '{printf "%.1f", $1 / 1024}' "$SCRATCH/$name.rss")
  got=$(check "$name" "$db" 2>&1 || true)
  if [ "$got" = "$EXPECTED" ]; then status[$name]=OK; else status[$name]=MISMATCH; say "$name: got '$got', want '$EXPECTED'"; fi

  if command -v hyperfine >/dev/null; then
    hyperfine -N --style basic --warmup "$WARMUP" --runs "$runs" \
      --prepare "rm -f $db $db-journal $db-wal $db-shm $db.wal" --export-json "$SCRATCH/$name.json" "$cmd" >&2
    ms[$name]=$("$PY" -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$SCRATCH/$name.json")
  else
    times=()
    for ((r = 0; r < WARMUP + runs; r++)); do
      fresh "$db"; t0=$(date +%s%N); $cmd >/dev/null 2>&1; t1=$(date +%s%N)
      if ((r >= WARMUP)); then times+=($(( (t1 - t0) / 1000 ))); fi
    done
    ms[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2) / 1000}')
  fi
done

# 4. The table.
ours=${ms[covid-etl]:-}
printf '\nnational run: %s + %s, median of N runs, fresh database each run\n\n' "$NYT" "$JHU"
printf '| %-11s | %9s | %11s | %18s | %-8s |\n' tool 'median ms' 'peak RSS MB' 'ratio vs covid-etl' check
printf '|-------------|-----------|-------------|--------------------|----------|\n'
for name in "${names[@]}"; do
  t=${ms[$name]:-} ratio=n/a
  [ -n "$t" ] && [ -n "$ours" ] && ratio=$(awk -v a="$t" -v b="$ours" 'BEGIN {printf "%.2fx", a / b}')
  printf '| %-11s | %9s | %11s | %18s | %-8s |\n' "$name" "${t:--}" "${rss[$name]:--}" "$ratio" "${status[$name]}"
done
for name in "${names[@]}"; do [ "${status[$name]}" = OK ] || exit 1; done
