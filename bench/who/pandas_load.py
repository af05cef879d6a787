"""pandas' way of the same job: read_csv (codes as plain strings: keep_default_na=False, or
Namibia's NA is lost) + to_sql into a new SQLite file. Usage: pandas_load.py CSV DB"""
import sqlite3
import sys

import pandas as pd

df = pd.read_csv(sys.argv[1], keep_default_na=False, dtype={"Country_code": str},
                 encoding="utf-8-sig")
with sqlite3.connect(sys.argv[2]) as c:
    df[["Date_reported", "Country_code", "Cumulative_cases", "Cumulative_deaths"]].to_sql(
        "world", c, index=False)
    c.execute("CREATE UNIQUE INDEX world_key ON world (Country_code, Date_reported)")
print(len(df))
