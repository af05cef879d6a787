#!/usr/bin/env bash
# County loads into PostgreSQL: covid-etl's full load, daily run and rerun of the default county
# file from gen-nyt-like (2,165,998 rows, 101 MB; the one bench/counties.sh makes), beside
# `psql \copy` of the same file into a plain table and into a table keyed like ours, on the same
# server, in one run, with ratios and peak memory.
#
# Usage (from the repo root):  bash bench/postgres_counties.sh
# Knobs (environment): RUNS=3 BIN=build/covid-etl BENCH_DATA=build/bench-data
#                      PG_URL=postgresql://... (an existing server and database; by default a
#                      throwaway server is started with tests/integration/pgserver.py --durable,
#                      PostgreSQL's default settings, fsync on, and stopped at the end)
#                      SCRATCH=build/bench/postgres-counties-scratch
#
# What is timed, each a whole process, median of RUNS (peak RSS of the median run):
#   covid-etl, full load       `run --counties FILE` into a schema dropped before each run:
#                              parse, validate, one binary COPY into observations (keyed, with
#                              its foreign keys), date digests, run record
#   covid-etl, one new day     the database as the file without its last date left it (that
#                              date's rows, digest and source state deleted): the daily case
#   covid-etl, identical rerun the same file again (its source state deleted, so the body is read)
#   psql \copy, plain table    the CSV as it is into (date, county, state, fips, cases, deaths)
#   psql \copy, keyed table    the same with PRIMARY KEY (state, county, date), as ours is keyed
# The ratio column is each line's time over the keyed \copy's. Each result is checked (row
# count and sum of cases); exits 1 on a mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/covid-etl}
RUNS=${RUNS:-3}
BENCH_DATA=${BENCH_DATA:-build/bench-data}
SCRATCH=${SCRATCH:-build/bench/postgres-counties-scratch}
GEN=../shared/tools/gen-nyt-like
PY=/usr/bin/python3
SCHEMA=covid_bench_counties
unset COVID_ETL_DB COVID_ETL_NYT_URL COVID_ETL_JHU_URL COVID_ETL_STATES_URL COVID_ETL_COUNTIES_URL

# A URL's password is never printed (the throwaway server's is made up, but a PG_URL may be real).
say() { printf '== %s\n' "$*" | sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#g' >&2; }
[ -x "$BIN" ] || { echo "$BIN not found: run make build first" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (bash scripts/setup.sh)" >&2; exit 1; }

CSV=$BENCH_DATA/us-counties.csv
if [ ! -s "$CSV" ]; then
  [ -f "$GEN" ] || { echo "$GEN not found (the shared tools sit next to the repository)" >&2; exit 1; }
  say "generating $CSV (gen-nyt-like with its default options)"
  rm -rf "$BENCH_DATA.tmp" && "$PY" "$GEN" "$BENCH_DATA.tmp" >&2
  mkdir -p "$BENCH_DATA" && mv "$BENCH_DATA.tmp"/* "$BENCH_DATA/" && rmdir "$BENCH_DATA.tmp"
fi
CSV=$(realpath "$CSV")

. bench/pg_server.sh  # psql, $SCRATCH, the server (unless PG_URL), q()
export PGOPTIONS="-c client_min_messages=warning"  # no NOTICEs from DROP ... CASCADE
say "server: $(q 'SHOW server_version'), fsync $(q 'SHOW fsync'), synchronous_commit $(q 'SHOW synchronous_commit')"

# The file's row count and sum of cases, which every load must show.
EXPECT=$(awk -F, 'NR > 1 { n++; c += $5 } END { printf "%d|%.0f", n, c }' "$CSV")
LAST=$(tail -n 1 "$CSV" | cut -d, -f1)
grep -v "^$LAST," "$CSV" >"$SCRATCH/minus-last-day.csv"
printf '[datasets]\nnational = false\nstates = false\n' >"$SCRATCH/counties.toml"
say "$CSV: $(( ${EXPECT%%|*} )) rows, last date $LAST"

DB="$PG_URL?schema=$SCHEMA"
OURS="$BIN run --config '$SCRATCH/counties.toml' --db '$DB' --counties '$CSV'"
OURS_CHECK="SELECT count(*), sum(cases) FROM $SCHEMA.observations WHERE location <> 'US'"
q "DROP TABLE IF EXISTS bench_counties, bench_counties_keyed;
   CREATE TABLE bench_counties (date date, county text, state text, fips text, cases bigint, deaths bigint);
   CREATE TABLE bench_counties_keyed (date date, county text, state text, fips text, cases bigint, deaths bigint,
                                      PRIMARY KEY (state, county, date))"

prepare_full() { q "DROP SCHEMA IF EXISTS $SCHEMA CASCADE"; }
prepare_day() {  # as the run of the file without its last date left the database
  if [ "$(q "SELECT to_regclass('$SCHEMA.observations') IS NOT NULL")" != t ]; then
    $BIN run --config "$SCRATCH/counties.toml" --db "$DB" --counties "$CSV" >/dev/null 2>&1
  fi
  q "DELETE FROM $SCHEMA.observations WHERE date = '$LAST';
     DELETE FROM $SCHEMA.date_digests WHERE date = '$LAST';
     DELETE FROM $SCHEMA.source_state"
}
prepare_rerun() { q "DELETE FROM $SCHEMA.source_state"; }
prepare_plain() { q "TRUNCATE bench_counties"; }
prepare_keyed() { q "TRUNCATE bench_counties_keyed"; }

# name | prepare function | command | check SQL
names=() prepares=() cmds=() checks=()
add() { names+=("$1"); prepares+=("$2"); cmds+=("$3"); checks+=("$4"); }
add "covid-etl, full load" prepare_full "$OURS" "$OURS_CHECK"
add "covid-etl, one new day" prepare_day "$OURS" "$OURS_CHECK"
add "covid-etl, identical rerun" prepare_rerun "$OURS" "$OURS_CHECK"
printf '\\copy bench_counties FROM %s WITH (FORMAT csv, HEADER)\n' "'$CSV'" >"$SCRATCH/copy_plain.sql"
printf '\\copy bench_counties_keyed FROM %s WITH (FORMAT csv, HEADER)\n' "'$CSV'" >"$SCRATCH/copy_keyed.sql"
add "psql \\copy, plain table" prepare_plain "'$PSQL' -X -q -d '$PG_URL' -f '$SCRATCH/copy_plain.sql'" \
  "SELECT count(*), sum(cases) FROM bench_counties"
add "psql \\copy, keyed table" prepare_keyed "'$PSQL' -X -q -d '$PG_URL' -f '$SCRATCH/copy_keyed.sql'" \
  "SELECT count(*), sum(cases) FROM bench_counties_keyed"

declare -A secs kb status
for i in "${!names[@]}"; do
  name=${names[$i]}
  say "$name: ${cmds[$i]}"
  rows=()
  for ((r = 0; r < RUNS; r++)); do
    ${prepares[$i]} >/dev/null
    if ! /usr/bin/time -f '%e %M' -o "$SCRATCH/time.txt" bash -c "${cmds[$i]}" >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"; then
      status[$name]=FAILED; say "$name failed:"; tail -5 "$SCRATCH/err.txt" >&2; break
    fi
    rows+=("$(tail -n 1 "$SCRATCH/time.txt")")
  done
  [ "${status[$name]:-}" = FAILED ] && continue
  median=$(printf '%s\n' "${rows[@]}" | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
  secs[$name]=${median% *} kb[$name]=${median#* }
  got=$(q "${checks[$i]}" 2>&1 || true)
  if [ "$got" = "$EXPECT" ]; then status[$name]=OK; else status[$name]=MISMATCH; say "$name: got '$got', want '$EXPECT'"; fi
done
q "DROP TABLE IF EXISTS bench_counties, bench_counties_keyed; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true

base=${secs["psql \\copy, keyed table"]:-}
printf '\ncounty loads into PostgreSQL %s, %s rows, median of %s runs, whole process each run\n\n' \
  "$(q 'SHOW server_version' 2>/dev/null || echo '?')" "${EXPECT%%|*}" "$RUNS"
printf '| %-28s | %9s | %13s | %18s | %-8s |\n' tool seconds 'peak RSS (MB)' 'ratio vs keyed' check
printf '|------------------------------|-----------|---------------|--------------------|----------|\n'
for name in "${names[@]}"; do
  t=${secs[$name]:-} m=${kb[$name]:-} ratio=n/a
  [ -n "$t" ] && [ -n "$base" ] && ratio=$(awk -v a="$t" -v b="$base" 'BEGIN {printf "%.2fx", a / b}')
  [ -n "$m" ] && m=$(awk -v k="$m" 'BEGIN {printf "%.0f", k / 1024}')
  printf '| %-28s | %9s | %13s | %18s | %-8s |\n' "$name" "${t:--}" "${m:--}" "$ratio" "${status[$name]:-FAILED}"
done
for name in "${names[@]}"; do [ "${status[$name]:-}" = OK ] || exit 1; done
