#!/usr/bin/python3
"""National run done the idiomatic pandas way, as a baseline for covid-etl.

Usage: /usr/bin/python3 pandas_etl.py NYT_US_CSV JHU_COMBINED_CSV SQLITE_DB

Reads the NYT national series and the JHU combined series, keeps the JHU US
national row (Country/Region == "US", empty Province/State), turns Recovered == 0
into NULL from the first positive value on, left-joins it onto every NYT date,
validates (real YYYY-MM-DD dates, integer counts >= 0, no duplicate dates) and
loads table `national` keyed by (location, date). Any bad row: exit 1, nothing loaded.
"""
import sqlite3
import sys

import pandas as pd

nyt_path, jhu_path, db_path = sys.argv[1:4]
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


def fail(msg):
    sys.exit(f"pandas_etl: {msg}")


def check_dates(s, what):
    ok = s.str.match(DATE_RE) & pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").notna()
    if not ok.all():
        fail(f"{what}: bad date {s[~ok].iloc[0]!r}")
    if s.duplicated().any():
        fail(f"{what}: duplicate date {s[s.duplicated()].iloc[0]}")


def check_counts(df, cols, what):
    for c in cols:
        bad = ~df[c].str.fullmatch(r"\d{1,18}")
        if bad.any():
            fail(f"{what}: bad {c} {df[c][bad].iloc[0]!r}")
        df[c] = df[c].astype("int64")


# Extract. Strings first, so that validation sees the raw text.
nyt = pd.read_csv(nyt_path, dtype=str, keep_default_na=False)
jhu = pd.read_csv(jhu_path, dtype=str, keep_default_na=False,
                  usecols=["Date", "Country/Region", "Province/State", "Recovered"])

# Transform: the JHU US national row, the zero rule, the left join.
us = jhu[(jhu["Country/Region"] == "US") & (jhu["Province/State"] == "")]
us = us.rename(columns={"Date": "date", "Recovered": "recovered"})[["date", "recovered"]]
check_dates(us["date"], "jhu")
check_counts(us, ["recovered"], "jhu")
us = us.sort_values("date")
seen_positive = (us["recovered"] > 0).cummax()
us["recovered"] = us["recovered"].mask(seen_positive & (us["recovered"] == 0)).astype("Int64")

check_dates(nyt["date"], "nyt")
check_counts(nyt, ["cases", "deaths"], "nyt")
out = nyt.merge(us, on="date", how="left")
out.insert(0, "location", "US")

# Load: a fresh keyed table, one transaction.
con = sqlite3.connect(db_path)
with con:
    con.execute("""CREATE TABLE IF NOT EXISTS national (
        location TEXT NOT NULL, date TEXT NOT NULL,
        cases INTEGER NOT NULL, deaths INTEGER NOT NULL, recovered INTEGER,
        PRIMARY KEY (location, date))""")
    out.to_sql("national", con, if_exists="append", index=False)
con.close()
print(f"pandas_etl: loaded {len(out)} rows into {db_path}")
