#!/usr/bin/env bash
# Loading into PostgreSQL: covid-etl's national run beside `psql \copy` of the same NYT file into a
# plain table, on the same server, in one run, with the ratio; and `psql \copy` of the NYT states
# file (us-states.csv, 61,942 rows), which covid-etl does not load yet (national series only).
#
# Usage (from the repo root):  bash bench/postgres.sh
# Knobs (environment): RUNS=10 WARMUP=2 BIN=build/covid-etl NYT=... NYT_STATES=... JHU=...
#                      PG_URL=postgresql://... (an existing server and database to use; by default
#                      a throwaway server is started with tests/integration/pgserver.py --durable,
#                      i.e. PostgreSQL's default settings, fsync on, and stopped at the end)
#                      SCRATCH=build/bench/postgres-scratch
#
# What is timed, each a whole process (start, connect, load, commit), median of RUNS:
#   covid-etl, fresh schema     `run` on a schema dropped before each run: migration + full load
#   covid-etl, empty tables     `run` with the schema in place and its tables emptied: full load
#                               (820 rows by binary COPY + upsert, revisions, run record, outbox)
#   covid-etl, NYT only         the same with a one-row JHU file: the NYT parse and load alone
#   psql \copy us.csv           into a plain table (date, cases, deaths), emptied before each run
#   psql \copy us-states.csv    the same for the states file
# Like with like is "covid-etl, empty tables" (or "NYT only") against "psql \copy us.csv": the
# ratio column is each line's time over psql's time for us.csv. covid-etl also parses and
# validates both sources, joins them, classifies against the stored rows and records the run.
# Each tool's result is checked (row counts and known values); exits 1 on a mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

NYT=${NYT:-../shared/data/nyt/us.csv}
NYT_STATES=${NYT_STATES:-../shared/data/nyt/us-states.csv}
JHU=${JHU:-../shared/data/jhu/time-series-19-covid-combined.csv}
BIN=${BIN:-build/covid-etl}
RUNS=${RUNS:-10} WARMUP=${WARMUP:-2}
SCRATCH=${SCRATCH:-build/bench/postgres-scratch}
PY=/usr/bin/python3
SCHEMA=covid_bench

# A URL's password is never printed (the throwaway server's is made up, but a PG_URL may be real).
say() { printf '== %s\n' "$*" | sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#g' >&2; }
[ -f "$NYT" ] && [ -f "$NYT_STATES" ] && [ -f "$JHU" ] || { echo "data files not found" >&2; exit 1; }
[ -x "$BIN" ] || { echo "$BIN not found: run make build first" >&2; exit 1; }
have_hyperfine=; command -v hyperfine >/dev/null && have_hyperfine=1

. bench/pg_server.sh  # psql, $SCRATCH, the server (unless PG_URL), q()
say "server: $(q 'SHOW server_version'), fsync $(q 'SHOW fsync'), synchronous_commit $(q 'SHOW synchronous_commit')"

# The NYT-only variant's JHU file: the header and the first US row.
ONE_JHU="$SCRATCH/jhu-one-row.csv"
{ head -1 "$JHU"; grep -m1 ',US,,' "$JHU"; } >"$ONE_JHU"
q "DROP TABLE IF EXISTS bench_us, bench_states;
   CREATE TABLE bench_us (date date, cases bigint, deaths bigint);
   CREATE TABLE bench_states (date date, state text, fips text, cases bigint, deaths bigint)"
printf '\\copy bench_us FROM %s WITH (FORMAT csv, HEADER)\n' "'$(realpath "$NYT")'" >"$SCRATCH/copy_us.sql"
printf '\\copy bench_states FROM %s WITH (FORMAT csv, HEADER)\n' "'$(realpath "$NYT_STATES")'" >"$SCRATCH/copy_states.sql"
printf 'DROP SCHEMA IF EXISTS %s CASCADE\n' "$SCHEMA" >"$SCRATCH/drop_schema.sql"
printf 'TRUNCATE %s.observations, %s.revisions, %s.source_state, %s.outbox, %s.runs RESTART IDENTITY\n' \
  $SCHEMA $SCHEMA $SCHEMA $SCHEMA $SCHEMA >"$SCRATCH/empty_tables.sql"
echo 'TRUNCATE bench_us' >"$SCRATCH/empty_us.sql"
echo 'TRUNCATE bench_states' >"$SCRATCH/empty_states.sql"
export COVID_ETL_DB="$PG_URL?schema=$SCHEMA"
PSQL_CMD="$PSQL -X -q -d $PG_URL"

# name | prepare (psql -f FILE) | command | check SQL | expected
names=() prepares=() cmds=() checks=() expects=()
add() { names+=("$1"); prepares+=("$2"); cmds+=("$3"); checks+=("$4"); expects+=("$5"); }
OURS_CHECK="SELECT count(*), (SELECT recovered FROM $SCHEMA.observations WHERE date = '2020-12-13'),
  (SELECT cases FROM $SCHEMA.observations WHERE date = '2021-03-16'),
  (SELECT deaths FROM $SCHEMA.observations WHERE date = '2021-03-16') FROM $SCHEMA.observations"
add "covid-etl, fresh schema" drop_schema.sql "$BIN run --json --nyt $NYT --jhu $JHU" "$OURS_CHECK" '820|6298082|29569140|536491'
add "covid-etl, empty tables" empty_tables.sql "$BIN run --json --nyt $NYT --jhu $JHU" "$OURS_CHECK" '820|6298082|29569140|536491'
add "covid-etl, NYT only" empty_tables.sql "$BIN run --json --nyt $NYT --jhu $ONE_JHU" "$OURS_CHECK" '820||29569140|536491'
add "psql \\copy us.csv" empty_us.sql "$PSQL_CMD -f $SCRATCH/copy_us.sql" \
  "SELECT count(*), '', (SELECT cases FROM bench_us WHERE date = '2021-03-16'), (SELECT deaths FROM bench_us WHERE date = '2021-03-16') FROM bench_us" \
  '820||29569140|536491'
add "psql \\copy us-states.csv" empty_states.sql "$PSQL_CMD -f $SCRATCH/copy_states.sql" \
  "SELECT count(*), count(DISTINCT state), sum(cases) FILTER (WHERE date = '2021-03-16'), '' FROM bench_states" \
  "$(awk -F, 'NR > 1 {n++; states[$2]; if ($1 == "2021-03-16") s += $4} END {print n "|" length(states) "|" s "|"}' "$NYT_STATES")"

declare -A ms status
for i in "${!names[@]}"; do
  name=${names[$i]} prep="$PSQL_CMD -f $SCRATCH/${prepares[$i]}" cmd=${cmds[$i]}
  say "$name: $cmd"
  $prep >/dev/null 2>&1 || true
  if ! $cmd >"$SCRATCH/out.txt" 2>"$SCRATCH/err.txt"; then
    status[$name]=FAILED; say "$name failed:"; tail -5 "$SCRATCH/err.txt" >&2; continue
  fi
  got=$(q "${checks[$i]}" 2>&1 || true)
  if [ "$got" = "${expects[$i]}" ]; then status[$name]=OK; else status[$name]=MISMATCH; say "$name: got '$got', want '${expects[$i]}'"; fi
  if [ -n "$have_hyperfine" ]; then
    hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --prepare "$prep" \
      --export-json "$SCRATCH/$i.json" "$cmd" >&2
    ms[$name]=$($PY -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$SCRATCH/$i.json")
  else
    times=()
    for ((r = 0; r < WARMUP + RUNS; r++)); do
      $prep >/dev/null 2>&1; t0=$(date +%s%N); $cmd >/dev/null 2>&1; t1=$(date +%s%N)
      if ((r >= WARMUP)); then times+=($(( (t1 - t0) / 1000 ))); fi
    done
    ms[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2) / 1000}')
  fi
done
q "DROP TABLE IF EXISTS bench_us, bench_states; DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true

base=${ms["psql \\copy us.csv"]:-}
printf '\nloading into PostgreSQL %s, median of %s runs, whole process each run\n\n' "$(q 'SHOW server_version' 2>/dev/null || echo '?')" "$RUNS"
printf '| %-24s | %9s | %22s | %-8s |\n' tool 'median ms' 'ratio vs psql us.csv' check
printf '|--------------------------|-----------|------------------------|----------|\n'
for name in "${names[@]}"; do
  t=${ms[$name]:-} ratio=n/a
  [ -n "$t" ] && [ -n "$base" ] && ratio=$(awk -v a="$t" -v b="$base" 'BEGIN {printf "%.2fx", a / b}')
  printf '| %-24s | %9s | %22s | %-8s |\n' "$name" "${t:--}" "$ratio" "${status[$name]}"
done
for name in "${names[@]}"; do [ "${status[$name]}" = OK ] || exit 1; done
