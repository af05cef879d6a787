#!/usr/bin/python3
"""County load done the idiomatic pandas way, as a baseline for covid-etl.

Usage: /usr/bin/python3 pandas_etl.py NYT_US_COUNTIES_CSV SQLITE_DB

Reads the NYT county series (date,county,state,fips,cases,deaths) with explicit dtypes
(read_csv raises on a count that is not an integer: '1.5', 'x'; an empty deaths is NA),
validates (real YYYY-MM-DD dates, counts >= 0, fips empty or 5 digits, county and state named)
and loads, in one transaction, table `locations` (one row per location: a county's FIPS code,
or 'State:County' where NYT gives none) and table `counties` keyed by (location, date) with
to_sql (sorted by the key first, 100,000 rows at a time). The keys reject a (location, date)
twice and a location under two names. Any bad row: exit 1, nothing loaded.
"""
import sqlite3
import sys

import pandas as pd

csv_path, db_path = sys.argv[1:3]


def fail(msg):
    sys.exit(f"pandas_etl: {msg}")


# Extract, with the types checked by the reader.
try:
    df = pd.read_csv(csv_path, keep_default_na=False, na_values={"deaths": [""]},
                     dtype={"date": str, "county": str, "state": str, "fips": str,
                            "cases": "int64", "deaths": "Int64"})
except ValueError as e:
    fail(f"{csv_path}: {e}")
if list(df.columns) != ["date", "county", "state", "fips", "cases", "deaths"]:
    fail(f"unexpected header {list(df.columns)}")

# Validate. Dates and FIPS codes repeat: check each distinct value once.
dates = pd.Series(df["date"].unique())
ok = dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}") & pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce").notna()
if not ok.all():
    fail(f"bad date {dates[~ok].iloc[0]!r}")
fips = pd.Series(df["fips"].unique())
ok = (fips == "") | fips.str.fullmatch(r"\d{5}")
if not ok.all():
    fail(f"bad fips {fips[~ok].iloc[0]!r}")
for c in ("county", "state"):
    if (df[c] == "").any():
        fail(f"empty {c}")
for c in ("cases", "deaths"):
    if (df[c] < 0).any():
        fail(f"negative {c}")

# Transform: the location key.
df.insert(0, "location", df["fips"].where(df["fips"] != "", df["state"] + ":" + df["county"]))
locations = df[["location", "county", "state", "fips"]].drop_duplicates()
locations["fips"] = locations["fips"].replace("", None)

# Load: fresh keyed tables, one transaction.
con = sqlite3.connect(db_path)
try:
    with con:
        con.execute("""CREATE TABLE locations (
            location TEXT PRIMARY KEY, county TEXT NOT NULL, state TEXT NOT NULL, fips TEXT) WITHOUT ROWID""")
        con.execute("""CREATE TABLE counties (
            location TEXT NOT NULL REFERENCES locations (location), date TEXT NOT NULL,
            cases INTEGER NOT NULL, deaths INTEGER,
            PRIMARY KEY (location, date)) WITHOUT ROWID""")
        locations.to_sql("locations", con, if_exists="append", index=False)
        # In key order: appending to the B-tree is much cheaper than inserting all over it.
        (df[["location", "date", "cases", "deaths"]].sort_values(["location", "date"])
         .to_sql("counties", con, if_exists="append", index=False, chunksize=100_000))
except sqlite3.Error as e:
    fail(f"load: {e}")
con.close()
print(f"pandas_etl: loaded {len(df)} rows, {len(locations)} locations into {db_path}")
