#!/usr/bin/env bash
# County load done by the sqlite3 command-line shell alone, as a baseline for covid-etl.
#
# Usage: bash sqlite_cli.sh NYT_US_COUNTIES_CSV SQLITE_DB
#
# `.import --csv` the file into a TEMP staging table (all TEXT, named by the header), then one
# transaction: the locations (a county's FIPS code, or 'State:County' where NYT gives none) into
# `locations`, and every row into `counties` keyed by (location, date), in key order (appending to
# the B-tree instead of inserting all over it). Validation is in the tables: CHECKs reject
# non-integer or negative counts (an empty deaths is NULL), dates that are not real YYYY-MM-DD
# (date(x, '+0 days') = x; a plain date(x) lets 2020-02-30 through), a FIPS code that is not 5
# digits, an empty county or state; the keys reject a (location, date) twice and a location under
# two names. With -bail any bad row stops the run before COMMIT, so nothing is loaded, and sqlite3
# exits non-zero.
set -euo pipefail
csv=$1 db=$2
q() { printf "'%s'" "${1//\'/\'\'}"; }   # quote a path for the shell's dot-commands

sqlite3 -bail "$db" <<SQL
.import --csv --schema temp $(q "$csv") raw

CREATE TABLE IF NOT EXISTS locations (
  location TEXT PRIMARY KEY,
  county   TEXT NOT NULL CHECK (county <> ''),
  state    TEXT NOT NULL CHECK (state <> ''),
  fips     TEXT CHECK (fips IS NULL OR (length(fips) = 5 AND fips NOT GLOB '*[^0-9]*'))
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counties (
  location TEXT NOT NULL REFERENCES locations (location),
  date     TEXT NOT NULL CHECK (date(date, '+0 days') IS date),
  cases    INTEGER NOT NULL CHECK (typeof(cases) = 'integer' AND cases >= 0),
  deaths   INTEGER CHECK (deaths IS NULL OR (typeof(deaths) = 'integer' AND deaths >= 0)),
  PRIMARY KEY (location, date)
) WITHOUT ROWID;

BEGIN;
CREATE TEMP VIEW keyed AS
  SELECT coalesce(nullif(fips, ''), state || ':' || county) AS location, *
  FROM temp.raw;
INSERT INTO locations (location, county, state, fips)
  SELECT DISTINCT location, county, state, nullif(fips, '') FROM keyed;
INSERT INTO counties (location, date, cases, deaths)
  SELECT location, date, cases, nullif(deaths, '') FROM keyed ORDER BY location, date;
COMMIT;
SQL
