#!/usr/bin/env bash
# Publish benchmark (issue 19): `covid-etl publish` of the national, state and county data (the
# default `../shared/tools/gen-nyt-like` set) to s3rver on loopback and to a folder, in one run of
# this script, beside baselines from the same run: `cp -r` of the published folder, and a plain
# uploader (Debian's python3-botocore, one PutObject per file, like `aws s3 cp --recursive`) of
# the same folder to the same s3rver.
#
# Usage (from the repo root):  bash bench/publish.sh
# Knobs (environment): BIN=build/covid-etl  BENCH_DATA=build/bench-data (generated once, as
#                      bench/counties.sh does)  SCRATCH=build/bench/publish-scratch  RUNS=3
#
# Workloads (wall time of the whole process):
#   full        publish of a database that holds the files minus their last date, to an empty
#               destination: objects, MB as stored (gzip), seconds
#   one day     the database gains the last date (a run), then publish again: objects written
#               (goal: only the changed ones plus the index), seconds (goal: < 5 s on s3rver)
# s3rver runs with its request log off; the key pair is a made-up one (s3rver checks SigV4).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/covid-etl}
BENCH_DATA=${BENCH_DATA:-build/bench-data}
SCRATCH=${SCRATCH:-build/bench/publish-scratch}
RUNS=${RUNS:-3}
PY=/usr/bin/python3
GEN=../shared/tools/gen-nyt-like
say() { echo "publish.sh: $*" >&2; }
[ -x "$BIN" ] || { echo "$BIN not found (make build, or BIN=path/to/covid-etl)" >&2; exit 1; }

if [ ! -s "$BENCH_DATA/us-counties.csv" ]; then
  say "generating $BENCH_DATA (gen-nyt-like, default options)"
  rm -rf "$BENCH_DATA.tmp" && "$PY" "$GEN" "$BENCH_DATA.tmp" >&2
  mkdir -p "$BENCH_DATA" && mv "$BENCH_DATA.tmp"/* "$BENCH_DATA/" && rmdir "$BENCH_DATA.tmp"
fi
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH/before"
# The day before: every file without its last date.
for f in us.csv us-states.csv us-counties.csv; do
  last=$(tail -n 1 "$BENCH_DATA/$f" | cut -d, -f1)
  grep -v "^$last," "$BENCH_DATA/$f" >"$SCRATCH/before/$f"
done
JHU=../shared/data/jhu/time-series-19-covid-combined.csv
load() {  # db dir
  "$BIN" run --db "$1" --nyt "$2/us.csv" --states "$2/us-states.csv" --counties "$2/us-counties.csv" \
    --jhu "$JHU" --json >/dev/null
}
say "loading the day before (national, states, counties)"
load "$SCRATCH/before.db" "$SCRATCH/before"

export AWS_ACCESS_KEY_ID=BENCHPUBLISHKEY0001 AWS_SECRET_ACCESS_KEY=bench-publish-secret AWS_SESSION_TOKEN=
export AWS_REGION= AWS_DEFAULT_REGION=
stop_s3() { "$PY" tests/integration/s3server.py stop "$SCRATCH/s3" >/dev/null 2>&1 || true; }
trap stop_s3 EXIT
S3RVER_QUIET=1 "$PY" tests/integration/s3server.py start "$SCRATCH/s3" site >&2
ENDPOINT=$(cat "$SCRATCH/s3/url")

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
declare -a rows
publish() {  # label db dest -> row "label|objects|written|MB|s"
  local t0 t1 j
  t0=$(date +%s%N)
  j=$("$BIN" publish --json --db "$2" --to "$3")
  t1=$(date +%s%N)
  echo "$j" >>"$SCRATCH/reports.jsonl"
  "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print("%d|%d|%.1f" % (j["objects"], j["written"], j["bytes_written"] / 1e6))' "$j" |
    { IFS='|' read -r o w mb; echo "$1|$o|$w|$mb|$(secs "$t0" "$t1")"; }
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for run in $(seq "$RUNS"); do
  say "run $run of $RUNS"
  db="$SCRATCH/run.db" && cp "$SCRATCH/before.db" "$db"
  s3="s3://site/run$run?endpoint=$ENDPOINT" folder="$SCRATCH/site$run"
  rows+=("$(publish "full, s3rver" "$db" "$s3")")
  rows+=("$(publish "full, folder" "$db" "$folder")")
  t0=$(date +%s%N); cp -r "$folder" "$SCRATCH/copy$run"; t1=$(date +%s%N)
  n=$(find "$folder" -type f | wc -l); mb=$(du -sb "$folder" | awk '{ printf "%.1f", $1 / 1e6 }')
  rows+=("full, cp -r of the folder|$n|$n|$mb|$(secs "$t0" "$t1")")
  t0=$(date +%s%N)
  "$PY" - "$folder" "$ENDPOINT" "run$run-botocore" <<'EOF'
import os, sys
import botocore.session
from botocore.config import Config
folder, endpoint, prefix = sys.argv[1:]
s3 = botocore.session.get_session().create_client(
    "s3", region_name="us-east-1", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
for root, _, files in os.walk(folder):
    for name in files:
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            s3.put_object(Bucket="site", Key=prefix + "/" + os.path.relpath(path, folder), Body=f.read())
EOF
  t1=$(date +%s%N)
  rows+=("full, botocore PutObject per file|$n|$n|$mb|$(secs "$t0" "$t1")")
  load "$db" "$BENCH_DATA"
  rows+=("one day, s3rver|$(publish x "$db" "$s3" | cut -d'|' -f2-)")
  rows+=("one day, folder|$(publish x "$db" "$folder" | cut -d'|' -f2-)")
done

echo
echo "Publish, national + states + counties (gen-nyt-like defaults), median of $RUNS runs (of an even count, the lower middle one); $(nproc) cores, shared and noisy"
echo
echo "| workload | objects | written | MB written | seconds |"
echo "| --- | ---: | ---: | ---: | ---: |"
for label in "full, s3rver" "full, botocore PutObject per file" "full, folder" "full, cp -r of the folder" \
             "one day, s3rver" "one day, folder"; do
  sel=$(printf '%s\n' "${rows[@]}" | awk -F'|' -v l="$label" '$1 == l')
  [ -n "$sel" ] || continue
  o=$(echo "$sel" | cut -d'|' -f2 | median); w=$(echo "$sel" | cut -d'|' -f3 | median)
  mb=$(echo "$sel" | cut -d'|' -f4 | median); s=$(echo "$sel" | cut -d'|' -f5 | median)
  echo "| $label | $o | $w | $mb | $s |"
done
echo
echo "Each measurement (label|objects|written|MB|s):"
printf '  %s\n' "${rows[@]}"
