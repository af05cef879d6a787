#!/usr/bin/env bash
# The dashboard server beside nginx, in one run: wrk (2 threads, 50 connections, 10 s) against
# GET /api/v1/series?location=US (the full national series, 820 dates, ~49 KB of JSON) served by
# `covid-etl serve` from its database, and by nginx serving the very same bytes as a static file.
# Prints requests/s, p50 and p99 latency and the ratio; then the dashboard's time to first chart
# paint in Chromium (the page's "first-chart-paint" performance mark, a fresh browser context per
# load).
#
# Usage (from the repo root):  bash bench/serve.sh
# Knobs (environment): BIN=build/covid-etl DURATION=10s THREADS=2 CONNECTIONS=50 WARMUP=2s
#                      ROUNDS=3 PAINT_RUNS=20 SCRATCH=build/bench/serve-scratch NO_BUILD=1
# The two servers are measured in alternating rounds (ours, nginx, ours, nginx, ...), so that a
# passing load on the machine falls on both; the table shows each one's median round (by
# requests/s) and the rounds are listed under it.
# Goal (issue 4): at least half of nginx's requests/s, p99 under 5 ms; first paint within 300 ms.
# Installs what is missing: wrk and nginx from Debian (nginx without starting its service: the
# script runs its own nginx on a free port of 127.0.0.1 with a temporary configuration), and
# playwright-core with `npm ci` in tests/browser. Writes only to $SCRATCH and tests/browser/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/covid-etl}
DURATION=${DURATION:-10s} THREADS=${THREADS:-2} CONNECTIONS=${CONNECTIONS:-50} WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
PAINT_RUNS=${PAINT_RUNS:-20}
SCRATCH=$(realpath -m "${SCRATCH:-build/bench/serve-scratch}")
NYT=${NYT:-../shared/data/nyt/us.csv}
JHU=${JHU:-../shared/data/jhu/time-series-19-covid-combined.csv}
PATH_Q='/api/v1/series?location=US'

say() { printf '== %s\n' "$*" >&2; }
sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
apt_install() {
  say "installing $*"
  # Debian starts a newly installed nginx as a service: refuse service starts during the install.
  local policy=/usr/sbin/policy-rc.d added=
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null && $sudo chmod +x $policy && added=1
  fi
  $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
  [ -z "$added" ] || $sudo rm -f $policy
}

# 1. Prerequisites.
command -v wrk >/dev/null || apt_install wrk
[ -x /usr/sbin/nginx ] || apt_install nginx
[ -f tests/browser/node_modules/playwright-core/package.json ] || (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
if [ ! -x "$BIN" ] && [ -z "${NO_BUILD:-}" ]; then
  say "$BIN missing: running make build"
  make build
fi
[ -x "$BIN" ] || { echo "$BIN is missing" >&2; exit 1; }
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH/www" "$SCRATCH/nginx-temp"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# 2. The database and our server.
say "loading $NYT + $JHU"
"$BIN" run --db "$SCRATCH/covid.db" --nyt "$NYT" --jhu "$JHU" >/dev/null 2>&1
"$BIN" serve --db "$SCRATCH/covid.db" --listen 127.0.0.1:0 >"$SCRATCH/serve.out" 2>"$SCRATCH/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$SCRATCH/serve.out" 2>/dev/null && break; sleep 0.05; done
OURS=$(sed -n 's|.*listening on \(http://127.0.0.1:[0-9]*\)/.*|\1|p' "$SCRATCH/serve.out")
[ -n "$OURS" ] || { cat "$SCRATCH/serve.err" >&2; exit 1; }

# 3. nginx with the same JSON as a static file, on a free port, as many workers as we have threads.
curl -sf "$OURS$PATH_Q" -o "$SCRATCH/www/series.json"
NGINX_PORT=$(free_port)
cat >"$SCRATCH/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $SCRATCH/nginx.pid;
error_log $SCRATCH/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  open_file_cache max=16 inactive=60s; open_file_cache_valid 60s;
  keepalive_timeout 75s; keepalive_requests 100000000;
  client_body_temp_path $SCRATCH/nginx-temp/body; proxy_temp_path $SCRATCH/nginx-temp/proxy;
  fastcgi_temp_path $SCRATCH/nginx-temp/fastcgi; uwsgi_temp_path $SCRATCH/nginx-temp/uwsgi;
  scgi_temp_path $SCRATCH/nginx-temp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /api/v1/series { default_type application/json; alias $SCRATCH/www/series.json; }
  }
}
EOF
/usr/sbin/nginx -p "$SCRATCH" -c "$SCRATCH/nginx.conf" -g 'user root;' 2>"$SCRATCH/nginx.err" &
pids+=($!)
NGINX=http://127.0.0.1:$NGINX_PORT
for _ in $(seq 100); do curl -sf "$NGINX$PATH_Q" -o /dev/null && break; sleep 0.05; done
curl -sf "$NGINX$PATH_Q" -o "$SCRATCH/nginx.json" || { cat "$SCRATCH/nginx.err" "$SCRATCH/nginx-error.log" >&2; exit 1; }
cmp -s "$SCRATCH/www/series.json" "$SCRATCH/nginx.json" || { echo "nginx does not serve the same bytes" >&2; exit 1; }
BYTES=$(stat -c %s "$SCRATCH/www/series.json")

# 4. wrk: alternating rounds, a warm-up before each measured run.
to_ms() {  # wrk's "1.23ms" / "456.00us" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
declare -A rps p50 p99 errors rounds
measure() {  # name url round: a warm-up and one measured wrk run; appends its figures to rounds-NAME.txt
  local name=$1 url=$2 round=$3 out=$SCRATCH/wrk-$1-$3.txt
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$url" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$out"
  printf '%s %s %s %s\n' "$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")" \
    "$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")" "$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")" \
    "$out" >>"$SCRATCH/rounds-$name.txt"
}
pick_median() {  # name
  local line file
  line=$(sort -n "$SCRATCH/rounds-$1.txt" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }')
  read -r rps[$1] p50[$1] p99[$1] file <<<"$line"
  errors[$1]=$(cat "$SCRATCH"/wrk-"$1"-*.txt | awk '/Non-2xx|Socket errors/ { print }' | sort -u | tr '\n' ' ')
  rounds[$1]=$(awk '{ printf "%s%s req/s (p99 %s ms)", (NR > 1 ? ", " : ""), $1, $3 }' "$SCRATCH/rounds-$1.txt")
}
for r in $(seq "$ROUNDS"); do
  say "round $r/$ROUNDS: wrk -t$THREADS -c$CONNECTIONS -d$DURATION against covid-etl serve ($OURS), then nginx ($NGINX)"
  measure covid-etl "$OURS$PATH_Q" "$r"
  measure nginx "$NGINX$PATH_Q" "$r"
done
pick_median covid-etl
pick_median nginx

# 5. Time to first chart paint in Chromium.
say "first chart paint in Chromium, $PAINT_RUNS loads"
paint=$(PAINT_RUNS=$PAINT_RUNS node bench/serve_paint.mjs "$OURS/" 2>"$SCRATCH/paint.err") ||
  { cat "$SCRATCH/paint.err" >&2; paint="failed"; }

# 6. The table.
ratio=$(awk -v a="${rps[covid-etl]}" -v b="${rps[nginx]}" 'BEGIN { printf "%.2f", a / b }')
printf '\nGET %s: %s bytes of JSON; wrk -t%s -c%s -d%s, same machine, one run, median of %s alternating rounds\n\n' \
  "$PATH_Q" "$BYTES" "$THREADS" "$CONNECTIONS" "$DURATION" "$ROUNDS"
printf '| %-22s | %10s | %8s | %8s | %9s |\n' server 'requests/s' 'p50 ms' 'p99 ms' 'vs nginx'
printf '|------------------------|------------|----------|----------|-----------|\n'
printf '| %-22s | %10s | %8s | %8s | %9s |\n' 'covid-etl serve' "${rps[covid-etl]}" "${p50[covid-etl]}" "${p99[covid-etl]}" "${ratio}x"
printf '| %-22s | %10s | %8s | %8s | %9s |\n' 'nginx (static file)' "${rps[nginx]}" "${p50[nginx]}" "${p99[nginx]}" '1.00x'
printf '\nrounds: covid-etl serve: %s\n        nginx: %s\n' "${rounds[covid-etl]}" "${rounds[nginx]}"
for name in covid-etl nginx; do [ -z "${errors[$name]}" ] || printf 'wrk errors (%s): %s\n' "$name" "${errors[$name]}"; done
goal=met
awk -v r="$ratio" -v p="${p99[covid-etl]}" 'BEGIN { exit !(r >= 0.5 && p < 5) }' || goal=missed
printf '\ngoal (>= 0.50x nginx requests/s, p99 < 5 ms): %s\n' "$goal"
printf 'first chart paint (ms after navigation): %s\n' "$paint"
