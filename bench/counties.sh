#!/usr/bin/env bash
# County-scale benchmark (issue 8, "Speed and memory"): covid-etl against pandas, the sqlite3 shell
# and DuckDB on the same NYT-shaped county file (`../shared/tools/gen-nyt-like`, by default
# 2,165,998 rows, 101 MB), all in one run of this script, on the same machine.
#
# Usage (from the repo root):  bash bench/counties.sh
# Knobs (environment): BIN=build/covid-etl  BENCH_DATA=build/bench-data (the generated files;
#                      made once, never committed)  SCRATCH=build/bench/counties-scratch (databases)
#                      RUNS=3 (timed runs of each covid-etl workload)  RUNS_OTHERS=1 (of each other
#                      tool)  X4_RUNS=1  X4="--counties 6500 --days 1600" (gen-nyt-like options of
#                      the 4x file)  CSV_BENCH=<dir of BIN>/bench/csv_reader_bench  NO_CSV_BENCH=1
#                      NO_OTHERS=1 (covid-etl only)  NO_BUILD=1 (no `make build` when BIN is missing)
#                      KEEP=1 (keep the databases and file copies in $SCRATCH)
#                      BIN_NOTE="..." (what BIN was built from, printed with the table)
#
# Workloads, each a whole process (start, read, validate, load, commit) under /usr/bin/time (wall
# time from the shell, CPU time and peak RSS from wait4, i.e. the largest process of the tree):
#   full load 1x     covid-etl `run --counties FILE --json` (national and states off) into an empty
#                    database; pandas read_csv + to_sql, the sqlite3 shell's .import + validated
#                    INSERT, DuckDB read_csv + INSERT (bench/counties/*), each into tables keyed by
#                    (location, date) with the rows validated (see each script's header)
#   incremental      covid-etl only: the database holds the file minus its last date (loaded before
#                    from the same path: `ours-base` in the details); the source gains that day
#   identical rerun  covid-etl only: the same file again into that database
#   full load 4x     covid-etl only: a 4x file (gen-nyt-like $X4), for peak RSS against 1x
# Every result is checked against the file (rows, sums of cases and deaths, unknown deaths,
# locations; for the incremental and rerun, the run summary's counts): OK or MISMATCH. Prints one
# table (median wall time, peak RSS, ratios other tool / covid-etl), then each measurement, then the
# CSV reader's Google Benchmark figure; exits 1 if anything failed or did not check out.
# Prerequisites come from scripts/setup.sh (apt: python3-pandas, sqlite3, time, nodejs, npm) and
# bench/package.json (npm ci: @duckdb/node-api). Writes only to $BENCH_DATA, $SCRATCH and
# bench/node_modules; $SCRATCH keeps table.md (the table), each run's output and timings.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/covid-etl}
BENCH_DATA=${BENCH_DATA:-build/bench-data}
SCRATCH=${SCRATCH:-build/bench/counties-scratch}
RUNS=${RUNS:-3} RUNS_OTHERS=${RUNS_OTHERS:-1} X4_RUNS=${X4_RUNS:-1}
X4=${X4:---counties 6500 --days 1600}
CSV_BENCH=${CSV_BENCH:-$(dirname "$BIN")/bench/csv_reader_bench}
GEN=../shared/tools/gen-nyt-like
PY=/usr/bin/python3
unset COVID_ETL_DB COVID_ETL_NYT_URL COVID_ETL_JHU_URL COVID_ETL_STATES_URL COVID_ETL_COUNTIES_URL

say() { printf '== %s\n' "$*" >&2; }

# 1. Prerequisites.
[ -f "$GEN" ] || { echo "$GEN not found (the shared tools sit next to the repository)" >&2; exit 1; }
if ! "$PY" -c 'import pandas' 2>/dev/null || ! command -v sqlite3 >/dev/null || [ ! -x /usr/bin/time ] ||
   ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing what is missing (scripts/setup.sh)"
  bash scripts/setup.sh
fi
[ -d bench/node_modules/@duckdb/node-api ] || (cd bench && npm ci --no-audit --no-fund >&2)
if [ ! -x "$BIN" ] && [ -z "${NO_BUILD:-}" ]; then
  say "$BIN missing: running make build (NO_BUILD=1 skips this)"
  make build >&2 || true
fi
[ -x "$BIN" ] || { echo "$BIN not found (make build, or BIN=path/to/covid-etl)" >&2; exit 1; }

# 2. The data: generated once (into a temporary directory, then renamed, so an interrupted
# generation is never taken for a file), with its expected check line cached beside it.
generate() {  # dir [gen-nyt-like options]
  local dir=$1; shift
  if [ -s "$dir/us-counties.csv" ] && [ "$(cat "$dir/gen-args" 2>/dev/null || echo "$*")" = "$*" ]; then return; fi
  say "generating $dir/us-counties.csv (gen-nyt-like ${*:-with its default options})"
  rm -rf "$dir.tmp" && "$PY" "$GEN" "$dir.tmp" "$@" >&2
  echo "$*" >"$dir.tmp/gen-args"
  mkdir -p "$dir" && mv "$dir.tmp"/* "$dir/" && rmdir "$dir.tmp"
  rm -f "$dir/us-counties.expected"
}
expected() {  # csv -> rows|sum cases|sum deaths|unknown deaths|locations, computed from the text
  local csv=$1 cache=${1%.csv}.expected
  if [ ! -s "$cache" ] || [ "$csv" -nt "$cache" ]; then
    awk -F, 'NR > 1 { n++; c += $5; if ($6 == "") u++; else d += $6; loc[$4 != "" ? $4 : $3 ":" $2] }
             END { printf "%d|%.0f|%.0f|%d|%d\n", n, c, d, u, length(loc) }' "$csv" >"$cache"
  fi
  cat "$cache"
}
generate "$BENCH_DATA"
# shellcheck disable=SC2086  # X4 is a list of options
generate "$BENCH_DATA/x4" $X4
CSV1=$BENCH_DATA/us-counties.csv CSV4=$BENCH_DATA/x4/us-counties.csv
EXP1=$(expected "$CSV1") EXP4=$(expected "$CSV4")
ROWS1=${EXP1%%|*} ROWS4=${EXP4%%|*}

rm -rf "$SCRATCH" && mkdir -p "$SCRATCH/src"
SCRATCH=$(cd "$SCRATCH" && pwd)
LAST=$(tail -n 1 "$CSV1" | cut -d, -f1)
grep -v "^$LAST," "$CSV1" >"$SCRATCH/minus-last-day.csv"
LAST_ROWS=$(( ROWS1 - $(wc -l <"$SCRATCH/minus-last-day.csv") + 1 ))
printf '[datasets]\nnational = false\nstates = false\n' >"$SCRATCH/counties.toml"
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN {printf "%.0f MB", b / 1e6}'; }
say "1x: $CSV1, $ROWS1 rows, $(mb "$CSV1"); 4x: $CSV4, $ROWS4 rows, $(mb "$CSV4"); last date $LAST, $LAST_ROWS rows"

# 3. Measuring. measure KEY cmd...: one run; appends "wall_s cpu_s peak_kb" to $SCRATCH/KEY.times,
# keeps the command's stdout in $SCRATCH/KEY.out and stderr in $SCRATCH/KEY.err.
measure() {
  local key=$1; shift
  local t0 t1 u s m
  t0=$(date +%s%N)
  if ! /usr/bin/time -f '%U %S %M' -o "$SCRATCH/time.tmp" "$@" >"$SCRATCH/$key.out" 2>"$SCRATCH/$key.err"; then
    say "$key failed: $*"; cat "$SCRATCH/time.tmp" >&2; tail -n 5 "$SCRATCH/$key.err" >&2
    head -c 2000 "$SCRATCH/$key.out" >&2; return 1
  fi
  t1=$(date +%s%N)
  read -r u s m <"$SCRATCH/time.tmp"
  awk -v w=$((t1 - t0)) -v u="$u" -v s="$s" -v m="$m" 'BEGIN {printf "%.3f %.2f %d\n", w / 1e9, u + s, m}' >>"$SCRATCH/$key.times"
  say "$key: $(tail -n 1 "$SCRATCH/$key.times" | awk '{printf "%s s wall, %s s CPU, %.1f MB peak RSS", $1, $2, $3 / 1024}')"
}
fresh() { rm -f "$1" "$1-journal" "$1-wal" "$1-shm" "$1.wal"; }
declare -A status
verdict() {  # key got want
  if [ "$2" = "$3" ]; then status[$1]=${status[$1]:-OK}; else status[$1]=MISMATCH; say "$1: got '$2', want '$3'"; fi
}
summary() {  # run --json output -> status|inserted|updated|unchanged|missing
  "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print("|".join(str(j.get(k)) for k in ("status","inserted","updated","unchanged","missing")))' "$1" 2>&1 || true
}
ours_check() {
  sqlite3 "$1" "SELECT count(*), sum(o.cases), sum(o.deaths), count(*) - count(o.deaths),
                  (SELECT count(*) FROM locations WHERE type = 'county')
                FROM observations o JOIN locations l ON l.id = o.location WHERE l.type = 'county'" 2>&1 || true
}
OTHERS_CHECK="SELECT count(*), sum(cases), sum(deaths), count(*) - count(deaths), (SELECT count(*) FROM locations) FROM counties"
ours() { measure "$1" "$BIN" run --config "$SCRATCH/counties.toml" --db "$2" --counties "$3" --json; }

# 4. covid-etl.
db=$SCRATCH/ours.db
for ((r = 0; r < RUNS; r++)); do
  fresh "$db"
  ours ours-full "$db" "$CSV1" || { status[ours-full]=FAILED; break; }
  if ((r == 0)); then
    verdict ours-full "$(summary "$SCRATCH/ours-full.out")" "ok|$ROWS1|0|0|0"
    verdict ours-full "$(ours_check "$db")" "$EXP1"
  fi
done

# Incremental: the base database holds the file minus its last day, loaded from the path that
# then gets the whole file (a source that gained one day); each timed run starts from a copy.
src=$SCRATCH/src/us-counties.csv base=$SCRATCH/base.db db=$SCRATCH/incremental.db
cp "$SCRATCH/minus-last-day.csv" "$src"
if measure ours-base "$BIN" run --config "$SCRATCH/counties.toml" --db "$base" --counties "$src" --json; then
  cp "$CSV1" "$src"
  for ((r = 0; r < RUNS; r++)); do
    fresh "$db"; cp "$base" "$db"; [ ! -f "$base-wal" ] || cp "$base-wal" "$db-wal"
    ours ours-incremental "$db" "$src" || { status[ours-incremental]=FAILED; break; }
    ((r > 0)) || verdict ours-incremental "$(summary "$SCRATCH/ours-incremental.out" | cut -d'|' -f1,2,3,5)" "ok|$LAST_ROWS|0|0"
  done
  [ "${status[ours-incremental]:-}" = FAILED ] || verdict ours-incremental "$(ours_check "$db")" "$EXP1"
  for ((r = 0; r < RUNS; r++)); do
    ours ours-rerun "$db" "$src" || { status[ours-rerun]=FAILED; break; }
    ((r > 0)) || verdict ours-rerun "$(summary "$SCRATCH/ours-rerun.out" | cut -d'|' -f1,2,3,5)" "unchanged|0|0|0"
  done
else
  status[ours-incremental]=FAILED status[ours-rerun]=FAILED
fi

db=$SCRATCH/ours-x4.db
for ((r = 0; r < X4_RUNS; r++)); do
  fresh "$db"
  ours ours-x4 "$db" "$CSV4" || { status[ours-x4]=FAILED; break; }
  ((r > 0)) || verdict ours-x4 "$(ours_check "$db")" "$EXP4"
done
fresh "$db"  # 4x the disk space; not needed any more

# 5. The other tools: full load 1x.
others=(pandas sqlite3 duckdb)
[ -z "${NO_OTHERS:-}" ] || others=()
for tool in "${others[@]}"; do
  case $tool in
    pandas)  db=$SCRATCH/pandas.db;  cmd=("$PY" bench/counties/pandas_etl.py "$CSV1" "$db") ;;
    sqlite3) db=$SCRATCH/sqlite.db;  cmd=(bash bench/counties/sqlite_cli.sh "$CSV1" "$db") ;;
    duckdb)  db=$SCRATCH/duck.duckdb; cmd=(node bench/counties/duckdb_etl.mjs "$CSV1" "$db") ;;
  esac
  for ((r = 0; r < RUNS_OTHERS; r++)); do
    fresh "$db"
    measure "$tool" "${cmd[@]}" || { status[$tool]=FAILED; break; }
    if ((r == 0)); then
      if [ "$tool" = duckdb ]; then got=$(node bench/national/duckdb_query.mjs "$db" "$OTHERS_CHECK" 2>&1 || true)
      else got=$(sqlite3 "$db" "$OTHERS_CHECK" 2>&1 || true); fi
      verdict "$tool" "$got" "$EXP1"
    fi
  done
  fresh "$db"
done

# 6. The table.
median() { sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.3f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
stat_of() {  # key -> median wall s | median CPU s | largest peak RSS MB | runs, or nothing
  local f=$SCRATCH/$1.times
  [ -s "$f" ] || return 0
  printf '%s|%s|%s|%s\n' "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f2 "$f" | median)" \
    "$(awk '$3 > m {m = $3} END {printf "%.1f", m / 1024}' "$f")" "$(wc -l <"$f")"
}
cell() {  # key [ours key] -> "S s, M MB" (+ " (Rt x, Rm x)" against ours)
  local s o
  s=$(stat_of "$1"); [ -n "$s" ] || { echo "${status[$1]:-not run}"; return; }
  IFS='|' read -r w _ m _ <<<"$s"
  if [ -n "${2:-}" ] && o=$(stat_of "$2") && [ -n "$o" ]; then
    IFS='|' read -r ow _ om _ <<<"$o"
    awk -v w="$w" -v m="$m" -v ow="$ow" -v om="$om" 'function x(r) {return sprintf(r < 0.1 ? "%.3fx" : "%.1fx", r)}
      BEGIN {printf "%.2f s, %.0f MB (%s, %s)", w, m, x(w / ow), x(m / om)}'
  else
    awk -v w="$w" -v m="$m" 'BEGIN {printf "%.2f s, %.0f MB", w, m}'
  fi
  [ "${status[$1]:-OK}" = OK ] || printf ' %s' "${status[$1]}"
}
cpu_cell() {  # key [ours key] -> "C s" (+ " (R x)")
  local s o c oc
  s=$(stat_of "$1"); [ -n "$s" ] || { echo -; return; }
  c=$(cut -d'|' -f2 <<<"$s")
  if [ -n "${2:-}" ] && o=$(stat_of "$2") && [ -n "$o" ]; then
    oc=$(cut -d'|' -f2 <<<"$o")
    awk -v c="$c" -v oc="$oc" 'BEGIN {if (oc > 0) printf "%.2f s (%.1fx)", c, c / oc; else printf "%.2f s", c}'
  else
    awk -v c="$c" 'BEGIN {printf "%.2f s", c}'
  fi
}
commas() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
x4_vs_1x=$(awk -v a="$(stat_of ours-x4 | cut -d'|' -f3)" -v b="$(stat_of ours-full | cut -d'|' -f3)" \
  'BEGIN {if (a > 0 && b > 0) printf "%.2fx the 1x peak", a / b; else print "n/a"}')
dirty=$(git status --porcelain -- src CMakeLists.txt cmake 2>/dev/null | wc -l)
{
  printf '\ncounty loads, %s, %s cores, load average %s\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'covid-etl: %s, built %s%s (working tree: HEAD %s%s)\n' "$BIN" "$(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')" \
    "${BIN_NOTE:+, $BIN_NOTE}" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$( ((dirty == 0)) || echo ", $dirty files under src/, cmake/, CMakeLists.txt modified")"
  printf 'file: %s (%s rows, %s); median wall time of %s runs (covid-etl), %s (others); peak RSS the largest of them\n' \
    "$CSV1" "$(commas "$ROWS1")" "$(mb "$CSV1")" "$RUNS" "$RUNS_OTHERS"
  printf 'ratios in parentheses: the other tool / covid-etl, time then peak RSS\n\n'
  printf '| workload | rows | covid-etl | pandas read_csv + to_sql | sqlite3 CLI .import + INSERT | DuckDB (node-api) | goal (issue 8) |\n'
  printf '| --- | --- | --- | --- | --- | --- | --- |\n'
  printf '| full load into an empty database, validated, keyed | %s | %s | %s | %s | %s | <= 1.5 s, <= 64 MB |\n' \
    "$(commas "$ROWS1")" "$(cell ours-full)" "$(cell pandas ours-full)" "$(cell sqlite3 ours-full)" "$(cell duckdb ours-full)"
  printf '| incremental: the source gained one day (%s) | %s new | %s | - | - | - | <= 0.3 s |\n' \
    "$LAST" "$(commas "$LAST_ROWS")" "$(cell ours-incremental)"
  printf '| identical rerun | 0 changed | %s | - | - | - | <= 0.25 s |\n' "$(cell ours-rerun)"
  printf '| full load, 4x file (gen-nyt-like %s) | %s | %s (peak RSS %s) | - | - | - | peak RSS flat |\n' \
    "$X4" "$(commas "$ROWS4")" "$(cell ours-x4)" "$x4_vs_1x"

  printf '\nCPU time (user + sys, median; steadier than wall time on a loaded machine), ratio to covid-etl:\n\n'
  printf '| workload | covid-etl | pandas | sqlite3 CLI | DuckDB |\n| --- | --- | --- | --- | --- |\n'
  printf '| full load 1x | %s | %s | %s | %s |\n' "$(cpu_cell ours-full)" "$(cpu_cell pandas ours-full)" \
    "$(cpu_cell sqlite3 ours-full)" "$(cpu_cell duckdb ours-full)"
  printf '| incremental | %s | - | - | - |\n| identical rerun | %s | - | - | - |\n| full load 4x | %s | - | - | - |\n' \
    "$(cpu_cell ours-incremental)" "$(cpu_cell ours-rerun)" "$(cpu_cell ours-x4)"

  printf '\nevery measurement (wall s, CPU s = user + sys, peak RSS KB):\n'
  for key in ours-full ours-base ours-incremental ours-rerun ours-x4 "${others[@]}"; do
    [ -s "$SCRATCH/$key.times" ] || continue
    printf '  %-17s %-9s %s\n' "$key" "${status[$key]:-}" "$(awk '{printf "%s/%s/%s  ", $1, $2, $3}' "$SCRATCH/$key.times")"
  done
} | tee "$SCRATCH/table.md"

# 7. The CSV reader alone (Google Benchmark), on the 1x file.
if [ -z "${NO_CSV_BENCH:-}" ] && [ -x "$CSV_BENCH" ]; then
  say "CSV reader: $CSV_BENCH"
  if COVID_ETL_BENCH_CSV=$CSV1 "$CSV_BENCH" --benchmark_out="$SCRATCH/csv_reader_bench.json" \
       --benchmark_out_format=json >&2; then
    "$PY" -c 'import json,sys
r = json.load(open(sys.argv[1]))["benchmarks"]
print("\nCSV reader (Google Benchmark, %s): %s; goal >= 1 GB/s" % (sys.argv[2], ", ".join(
    "%s %.2f GB/s (%.2f GiB/s)" % (b["name"].replace("BM_CsvReader_", "").split("/")[0],
                                   b["bytes_per_second"] / 1e9, b["bytes_per_second"] / 2**30) for b in r)))' \
      "$SCRATCH/csv_reader_bench.json" "$CSV1" | tee -a "$SCRATCH/table.md"
  else
    say "csv_reader_bench failed"; status[csv_reader_bench]=FAILED
  fi
else
  say "no CSV reader figure ($CSV_BENCH not built, or NO_CSV_BENCH set)"
fi

# The copies and databases take several hundred MB: kept only with KEEP=1.
[ -n "${KEEP:-}" ] || rm -rf "$SCRATCH/src" "$SCRATCH/minus-last-day.csv" "$SCRATCH"/*.db "$SCRATCH"/*.db-*
for key in "${!status[@]}"; do [ "${status[$key]}" = OK ] || exit 1; done
