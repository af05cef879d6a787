"""Writes a daily WHO-shaped file from the weekly one: every week of every country spread over its
seven days (cumulatives interpolated, New_* the day's change), so that the benchmark has a file
the size of the WHO's real daily one (~500,000 rows). Usage: expand_daily.py WEEKLY OUT"""
import csv
import datetime
import sys

weekly, out = sys.argv[1], sys.argv[2]
series = {}
with open(weekly, newline="", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f, ):
        series.setdefault(r["Country_code"], []).append(r)
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Date_reported", "Country_code", "Country", "WHO_region", "New_cases",
                "Cumulative_cases", "New_deaths", "Cumulative_deaths"])
    for code, rows in series.items():
        rows.sort(key=lambda r: r["Date_reported"])
        prev = None
        for r in rows:
            day = datetime.date.fromisoformat(r["Date_reported"])
            c, d = int(r["Cumulative_cases"]), int(r["Cumulative_deaths"])
            if prev is None:
                w.writerow([day.isoformat(), code, r["Country"], r["WHO_region"], c, c, d, d])
            else:
                pc, pd = prev
                lc, ld = pc, pd
                for k in range(1, 8):
                    cc, cd = pc + (c - pc) * k // 7, pd + (d - pd) * k // 7
                    date = day - datetime.timedelta(days=7 - k)
                    w.writerow([date.isoformat(), code, r["Country"], r["WHO_region"], cc - lc, cc,
                                cd - ld, cd])
                    lc, ld = cc, cd
            prev = (c, d)
