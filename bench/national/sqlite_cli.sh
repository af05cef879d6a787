#!/usr/bin/env bash
# National run done by the sqlite3 command-line shell alone, as a baseline for covid-etl.
#
# Usage: bash sqlite_cli.sh NYT_US_CSV JHU_COMBINED_CSV SQLITE_DB
#
# `.import --csv` both files into TEMP staging tables (all TEXT, named by header), then one
# transaction: keep the JHU US national row, turn Recovered '0' into NULL from the first positive
# value on, left-join it onto every NYT date and insert into `national` keyed by (location, date).
# Validation is in the table: CHECKs reject non-integer or negative counts and dates that are not
# real YYYY-MM-DD (date(x, '+0 days') = x; a plain date(x) lets 2020-02-30 through), the primary
# key rejects duplicate dates. With -bail any bad row stops the run before COMMIT, so nothing is
# loaded, and sqlite3 exits non-zero.
set -euo pipefail
nyt=$1 jhu=$2 db=$3
q() { printf "'%s'" "${1//\'/\'\'}"; }   # quote a path for the shell's dot-commands

sqlite3 -bail "$db" <<SQL
.import --csv --schema temp $(q "$nyt") nyt_raw
.import --csv --schema temp $(q "$jhu") jhu_raw

CREATE TABLE IF NOT EXISTS national (
  location  TEXT NOT NULL,
  date      TEXT NOT NULL CHECK (date(date, '+0 days') IS date),
  cases     INTEGER NOT NULL CHECK (typeof(cases) = 'integer' AND cases >= 0),
  deaths    INTEGER NOT NULL CHECK (typeof(deaths) = 'integer' AND deaths >= 0),
  recovered INTEGER CHECK (recovered IS NULL OR (typeof(recovered) = 'integer' AND recovered >= 0)),
  PRIMARY KEY (location, date)
);

BEGIN;
WITH us AS (
  SELECT "Date" AS date, "Recovered" AS rec FROM temp.jhu_raw
  WHERE "Country/Region" = 'US' AND "Province/State" = ''
), first_positive AS (
  SELECT min(date) AS date FROM us WHERE CAST(rec AS INTEGER) > 0
)
INSERT INTO national (location, date, cases, deaths, recovered)
SELECT 'US', n.date, n.cases, n.deaths,
       CASE WHEN u.rec = '0' AND u.date > (SELECT date FROM first_positive) THEN NULL ELSE u.rec END
FROM temp.nyt_raw AS n LEFT JOIN us AS u ON u.date = n.date;
COMMIT;
SQL
