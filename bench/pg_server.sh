# Sourced by the PostgreSQL benchmarks (bench/postgres.sh, bench/postgres_counties.sh), after they
# set SCRATCH and PY and define say(): finds psql, empties $SCRATCH (made absolute), and unless
# PG_URL is given starts a throwaway server there (tests/integration/pgserver.py --durable:
# PostgreSQL's default settings, fsync on), stopped when the script exits. Then q SQL runs one
# statement and prints its rows unaligned.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "PostgreSQL not installed (bash scripts/setup.sh)" >&2; exit 1; }
PSQL="$PGBIN/psql"

rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
SCRATCH=$(cd "$SCRATCH" && pwd)
if [ -z "${PG_URL:-}" ]; then
  say "starting a throwaway PostgreSQL server (default settings, fsync on)"
  $PY tests/integration/pgserver.py start "$SCRATCH/server" --durable >&2
  trap '$PY tests/integration/pgserver.py stop "$SCRATCH/server" >/dev/null 2>&1 || true' EXIT
  PG_URL=$(cat "$SCRATCH/server/url")
fi
q() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$PG_URL" -c "$1"; }
