"""NYT's notes on anomalous days (rolling-averages/anomalies.csv) end to end: the reader's quirks
on the real file, the Times' city codes, revisions and removals across runs, bad inputs, the
annotations API, and the 7-day averages computed the Times' way (checked here against values
computed in Python from ../shared/data/nyt/us-states.csv and anomalies.csv, never by our code).
"""
import bisect
import csv
import datetime
import json
import os
import unittest

import etl
from etl import NYT, JHU, SHARED, TempDirTest, run_json
from test_serve import Server

ANOMALIES = os.path.join(SHARED, "nyt", "anomalies.csv")
STATES = os.path.join(SHARED, "nyt", "us-states.csv")
POPULATION = os.path.join(SHARED, "jhu", "UID_ISO_FIPS_LookUp_Table.csv")


def anomalies(path=ANOMALIES):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_anomalies(path, rows, final_newline=False):
    """Writes rows (dicts) as an anomalies file, quoting as csv does."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    if not final_newline:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            f.truncate()
    return path


def day(s):
    return datetime.date.fromisoformat(s)


def state_daily(fips, column="cases"):
    """{date: new count} of a state from us-states.csv (differences of consecutive dates)."""
    cum = {}
    with open(STATES, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["fips"].zfill(2) == fips:
                cum[day(r["date"])] = int(r[column] or 0)
    return {d: cum[d] - cum[d - datetime.timedelta(days=1)] for d in cum
            if d - datetime.timedelta(days=1) in cum}


def state_fips():
    with open(STATES, newline="", encoding="utf-8") as f:
        return sorted({r["fips"].zfill(2) for r in csv.DictReader(f)})


def nyt_rule(daily, geoid, metric, rows, sub_of=None, other=None, carried_by=()):
    """The Times' average (their README, rolling-averages/), written here apart from our code:
    - `other` is the place's other metric ({date: new count}); a date on which neither changed is
      a day without a report (None: every date is a report), unless it is in `carried_by` (the
      dates on which a county's state reported: its zero is a zero reported then). A report stands for itself and the
      days without a report just before it: a date's window is whole reports, from the last one
      on or before the date backwards, until they cover 7 days or more;
    - a date whose note (for this place, or for its state marked
      omit_from_rolling_average_on_subgeographies) omits it is left out, a report with the days it
      covers; a note's adjusted_daily_count_for_avg is added to that date's count;
    - the average is the counts kept over the days they cover.
    Returns ({date: average rounded to 2 places, or None}, omitted dates)."""
    omitted, adjust = set(), {}
    for r in rows:
        if r["type"] not in (metric, "both"):
            continue
        first = day(r["date"])
        last = day(r["end_date"]) if r["end_date"] else first
        dates = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
        if r["geoid"] == geoid:
            if r["omit_from_rolling_average"] == "yes":
                omitted.update(dates)
            for d in dates:
                adjust[d] = adjust.get(d, 0) + int(r["adjusted_daily_count_for_avg"] or 0)
        elif sub_of is not None and r["geoid"] == sub_of and \
                r["omit_from_rolling_average_on_subgeographies"] == "yes":
            omitted.update(dates)
    reports = sorted(d for d in daily if other is None or daily[d] != 0 or other.get(d, 0) != 0
                     or d in carried_by)
    out = {}
    for d in daily:
        ends = reports[:bisect.bisect_right(reports, d)]
        blocks = []  # (report, [the dates it covers])
        covered = 0
        while covered < 7 and ends:
            end = ends.pop()
            start = ends[-1] + datetime.timedelta(days=1) if ends else min(daily)
            block = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
            blocks.append((end, block))
            covered += len(block)
        if covered < 7:
            continue  # the window would reach the series' first date, whose new count is unknown
        kept = [(sum(daily[x] + adjust.get(x, 0) for x in block), len(block))
                for end, block in blocks if end not in omitted]
        days = sum(n for _, n in kept)
        out[d] = round(sum(c for c, _ in kept) / days, 2) if days else None
    return out, omitted


class AnnotationsLoad(TempDirTest):
    def load(self, path=ANOMALIES, *extra):
        return run_json(self.db, NYT, JHU, "--anomalies", path, *extra)

    def stored(self):
        return self.sql("SELECT location, from_date, type, kind, to_date, omit_from_average, "
                        "omit_on_subgeographies, adjusted_count, text FROM annotations "
                        "ORDER BY location, from_date, type, kind")

    def test_real_file_with_its_quirks(self):
        rows = anomalies()
        code, s, err = self.load()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["annotations"]["inserted"], len(rows))
        self.assertEqual(self.sql("SELECT count(*) FROM annotations"), [(len(rows),)])
        # The Times' city codes are our ids for those places; USA is US; USA-SS the state.
        cities = {"USA-36998": "36:New York City", "USA-29998": "29:Kansas City", "USA-29997": "29:Joplin"}
        for geoid, ours in cities.items():
            n = sum(1 for r in rows if r["geoid"] == geoid)
            self.assertGreater(n, 0, geoid)
            self.assertEqual(self.sql("SELECT count(*) FROM annotations WHERE location = ?", (ours,)), [(n,)])
        self.assertEqual(self.sql("SELECT count(*) FROM annotations WHERE location = 'US'"),
                         [(sum(1 for r in rows if r["geoid"] == "USA"),)])
        # Texas 2022-01-14: a note and an adjustment of the same (place, date, type), both kept.
        tx = self.sql("SELECT kind, adjusted_count, omit_on_subgeographies FROM annotations "
                      "WHERE location = '48' AND from_date = '2022-01-14' ORDER BY kind")
        self.assertEqual([(k, a, bool(o)) for k, a, o in tx], [("adjustment", -26236, False), ("note", 0, True)])
        # Texts: the doubled quotes undone, U+2019 kept, the Times' typos kept, trailing spaces
        # trimmed, empty ones empty.
        texts = [t for (t,) in self.sql("SELECT text FROM annotations")]
        self.assertEqual(sorted(texts), sorted(r["description"].rstrip(" \t") for r in rows))
        self.assertTrue(any('"Unknown"' in t for t in texts))
        self.assertEqual(sum(t.count("\u2019") for t in texts), sum(r["description"].count("\u2019") for r in rows))
        for typo in ("tehnical", "Francsico", "indentified"):
            self.assertTrue(any(typo in t for t in texts), typo)
        self.assertGreater(sum(1 for r in rows if r["description"] != r["description"].rstrip(" ")), 0)
        self.assertFalse(any(t != t.rstrip(" ") for t in texts))
        self.assertIn("", texts)
        # One-day notes have no end date; ranges keep theirs.
        self.assertEqual(self.sql("SELECT count(*) FROM annotations WHERE to_date IS NULL"),
                         [(sum(1 for r in rows if not r["end_date"]),)])
        # A rerun changes nothing: the same bytes are not read again (issue 17, Speed); a dry run
        # reads them and finds every note as stored.
        code, s, err = self.load()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        self.assertTrue(all(x["not_modified"] for x in s["sources"]), s["sources"])
        code, s, err = self.load(ANOMALIES, "--dry-run")
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["levels"]["annotations"]["unchanged"]), ("unchanged", len(rows)))

    def test_revisions_and_removals(self):
        rows = anomalies()
        self.assertEqual(self.load()[0], 0)
        before = self.stored()
        changed = [dict(r) for r in rows]
        changed[2]["description"] = "A revised note."  # Georgia 2020-04-12
        dropped = changed.pop(1)  # Wyoming 2020-04-09
        changed.append(dict(changed[0], date="2022-07-28", description="A new note."))
        code, s, err = self.load(write_anomalies(self.path("a2.csv"), changed))
        self.assertEqual(code, 0, err)
        a = s["levels"]["annotations"]
        self.assertEqual((a["inserted"], a["updated"], a["missing"]), (1, 1, 1), a)
        self.assertEqual(a["unchanged"], len(rows) - 2)
        after = self.stored()
        self.assertEqual(len(after), len(before) + 1)  # the dropped note is kept
        self.assertIn(("56", dropped["date"], "cases", "note"), [r[:4] for r in after])
        self.assertEqual(self.sql("SELECT text FROM annotations WHERE location = '13' AND from_date = '2020-04-12'"),
                         [("A revised note.",)])

    def test_bad_inputs_fail_with_their_place_and_change_nothing(self):
        rows = anomalies()
        self.assertEqual(self.load()[0], 0)
        before = self.stored()
        header = list(rows[0].keys())
        cases = {  # column -> (bad value, column of the field in line 3)
            "date": "2021-02-30",
            "end_date": "2020-01-01",  # before the date
            "type": "case",
            "omit_from_rolling_average": "Yes",
            "omit_from_rolling_average_on_subgeographies": "no",
            "adjusted_daily_count_for_avg": "-1,5",
            "geoid": "USA-99",
        }
        for column, bad in cases.items():
            with self.subTest(column=column):
                changed = [dict(r) for r in rows]
                changed[1][column] = bad
                path = write_anomalies(self.path(f"bad-{column}.csv"), changed)
                p = etl.cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--anomalies", path)
                code, err = p.returncode, p.stdout + p.stderr
                self.assertEqual(code, 2, err)
                with open(path, encoding="utf-8") as f:
                    line3 = f.read().split("\n")[2]
                col = 1 + sum(len(v) + 1 for v in line3.split(",")[:header.index(column)])
                self.assertIn(f"{path}:3:{col}: {column}", err)
                self.assertEqual(self.stored(), before)
        # The same key twice (two notes for Wyoming's cases on 2020-04-09).
        changed = [dict(r) for r in rows]
        changed.insert(2, dict(changed[1], description="again"))
        path = write_anomalies(self.path("dup.csv"), changed)
        p = etl.cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--anomalies", path)
        code, err = p.returncode, p.stdout + p.stderr
        self.assertEqual(code, 2, err)
        self.assertIn(f"{path}:4:1: geoid USA-56 on 2020-04-09 has a second note for cases (first on line 3)", err)
        self.assertEqual(self.stored(), before)


class AnnotatedAverages(unittest.TestCase):
    """One database with the nation, the states, a county of Texas and the notes; one server."""

    @classmethod
    def setUpClass(cls):
        import shutil
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="covid-etl-annotations-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.db = os.path.join(cls.tmp, "covid.db")
        # Harris County, Texas (48201): a small made-up county series around Texas' note of
        # 2022-01-14, which leaves that date out of the averages of Texas' counties.
        cls.county = {day("2022-01-01") + datetime.timedelta(days=i): 1000 + 10 * i * i for i in range(20)}
        # Anderson County, Texas (48001): made up, 12 new cases every fourth day, nothing between
        # (the days Texas reported are zeros reported; Texas did not report on 2021-12-25 and 26).
        cls.sparse = {day("2021-12-15") + datetime.timedelta(days=i): 500 + 12 * (i // 4) for i in range(37)}
        counties = os.path.join(cls.tmp, "counties.csv")
        lines = [(d, "48001", f"{d},Anderson,Texas,48001,{c},5\n") for d, c in cls.sparse.items()]
        lines += [(d, "48201", f"{d},Harris,Texas,48201,{c},{c // 100}\n") for d, c in cls.county.items()]
        with open(counties, "w", encoding="utf-8") as f:
            f.write("date,county,state,fips,cases,deaths\n")
            f.writelines(line for _, _, line in sorted(lines))
        code, s, err = run_json(cls.db, NYT, JHU, "--states", STATES, "--counties", counties,
                                "--anomalies", ANOMALIES, "--population", POPULATION)
        if code != 0:
            raise AssertionError(err)
        cls.rows = anomalies()
        cls.server = Server(cls.db)
        cls.addClassCleanup(cls.server.kill)

    def series(self, location, first, last):
        return self.server.get_json(f"/api/v1/series?location={location}&from={first}&to={last}")

    def check_state(self, fips, first, last):
        want, omitted = nyt_rule(state_daily(fips), f"USA-{fips}", "cases", self.rows, "USA",
                                 state_daily(fips, "deaths"))
        s = self.series(fips, first, last)
        for d, got, raw, om in zip(s["date"], s["new_cases_avg7"], s["new_cases_avg7_raw"], s["omitted"]):
            self.assertAlmostEqual(got, want[day(d)], places=2, msg=d)
            self.assertEqual(om in ("cases", "both"), day(d) in omitted, d)
        return s

    def test_backlog_adjusted_texas(self):
        s = self.check_state("48", "2022-01-10", "2022-01-25")
        i = s["date"].index("2022-01-14")
        self.assertAlmostEqual(s["new_cases_avg7_raw"][i] - s["new_cases_avg7"][i], 26236 / 7, places=1)

    def test_a_state_reporting_once_a_week(self):
        # South Carolina reported about once a week in 2022: each report stands for its week.
        s = self.check_state("45", "2022-03-01", "2022-06-30")
        differ = [d for d, a, r in zip(s["date"], s["new_cases_avg7"], s["new_cases_avg7_raw"])
                  if abs(a - r) > 0.05 * max(r, 1)]
        self.assertGreater(len(differ), 30)  # the plain 7 days would tell another story

    def test_the_nations_average_is_the_sum_of_its_states(self):
        first, last = "2021-12-01", "2022-03-31"
        want = {}
        for fips in state_fips():
            avg, _ = nyt_rule(state_daily(fips), f"USA-{fips}", "cases", self.rows, "USA",
                              state_daily(fips, "deaths"))
            for d, v in avg.items():
                if v is not None and day(first) <= d <= day(last):
                    want[d] = want.get(d, 0) + v
        s = self.series("US", first, last)
        self.assertEqual(len(s["date"]), len(want))
        for d, got, raw in zip(s["date"], s["new_cases_avg7"], s["new_cases_avg7_raw"]):
            self.assertAlmostEqual(got, want[day(d)], delta=0.01 * len(state_fips()), msg=d)
        self.assertNotEqual(s["new_cases_avg7"], s["new_cases_avg7_raw"])

    def test_omitted_days(self):
        # Every state with a one-day cases omission in 2021: the averages of the 2 weeks around it.
        picked = [r for r in self.rows if r["geoid"].count("-") == 1 and len(r["geoid"]) == 6
                  and r["omit_from_rolling_average"] == "yes" and r["type"] in ("cases", "both")
                  and r["date"].startswith("2021-0")][:5]
        self.assertEqual(len(picked), 5)
        for r in picked:
            d = day(r["date"])
            s = self.check_state(r["geoid"][4:], d - datetime.timedelta(days=7), d + datetime.timedelta(days=7))
            self.assertIn(s["omitted"][7], ("cases", "both"), r)

    def test_county_under_its_states_omission(self):
        daily = {d: c - self.county[d - datetime.timedelta(days=1)] for d, c in self.county.items()
                 if d - datetime.timedelta(days=1) in self.county}
        want, omitted = nyt_rule(daily, "USA-48201", "cases", self.rows, sub_of="USA-48")
        self.assertIn(day("2022-01-14"), omitted)
        s = self.series("48201", "2022-01-01", "2022-01-20")
        for d, got, om in zip(s["date"], s["new_cases_avg7"], s["omitted"]):
            if day(d) in want:
                self.assertAlmostEqual(got, want[day(d)], places=2, msg=d)
            self.assertEqual(om, "cases" if day(d) in omitted else None, d)
        # The state's adjustment is not the county's: its plain average differs only by the
        # omission.
        i = s["date"].index("2022-01-16")
        self.assertNotEqual(s["new_cases_avg7"][i], s["new_cases_avg7_raw"][i])

    def test_a_countys_zeros_on_its_states_report_days_are_reports(self):
        daily = {d: c - self.sparse[d - datetime.timedelta(days=1)] for d, c in self.sparse.items()
                 if d - datetime.timedelta(days=1) in self.sparse}
        tx = {d for d, n in state_daily("48").items() if n != 0 or state_daily("48", "deaths")[d] != 0}
        self.assertNotIn(day("2021-12-25"), tx)
        want, _ = nyt_rule(daily, "USA-48001", "cases", self.rows, "USA-48", {d: 0 for d in daily}, tx)
        s = self.series("48001", "2021-12-22", "2022-01-20")
        self.assertEqual(len(s["date"]), 30)
        for d, got in zip(s["date"], s["new_cases_avg7"]):
            self.assertAlmostEqual(got, want[day(d)], places=2, msg=d)
        # Without its state's reports it would be 12 over 4 days (3.0) every day.
        self.assertNotEqual({round(v, 2) for v in s["new_cases_avg7"]}, {3.0})

    def test_export_per_100k_has_the_apis_averages(self):
        """export --per-100k and /api/v1/export.csv give the API's 7-day averages per 100k (the
        notes applied, the days before the range averaged): Texas around its backlog of
        2022-01-14, where the plain average differs."""
        first, last = "2022-01-10", "2022-01-20"
        s = self.series("48", first, last)
        want = [(d, "%.2f" % c, "%.2f" % dd) for d, c, dd in zip(
            s["date"], s["new_cases_avg7_per_100k"], s["new_deaths_avg7_per_100k"])]
        self.assertEqual(len(want), 11)
        # The backlog is what the plain average would differ by on 2022-01-14.
        i = s["date"].index("2022-01-14")
        self.assertNotEqual(s["new_cases_avg7"][i], s["new_cases_avg7_raw"][i])
        p = etl.cli("export", "--db", self.db, "--location", "48", "--per-100k", "--from", first,
                    "--to", last)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(p.stdout.splitlines()))
        got = [(r["date"], "%.2f" % float(r["new_cases_avg7_per_100k"]),
                "%.2f" % float(r["new_deaths_avg7_per_100k"])) for r in rows]
        self.assertEqual(got, want)
        code, _, body = self.server.request(f"/api/v1/export.csv?location=48&from={first}&to={last}"
                                            "&per_100k=true")
        self.assertEqual(code, 200)
        self.assertEqual(p.stdout, body.decode())
        p = etl.cli("export", "--db", self.db, "--location", "48", "--per-100k", "--format", "json",
                    "--from", first, "--to", last)
        self.assertEqual([(r["date"], "%.2f" % r["new_cases_avg7_per_100k"],
                           "%.2f" % r["new_deaths_avg7_per_100k"]) for r in json.loads(p.stdout)],
                         want)

    def test_the_nations_export_has_its_states_sums(self):
        first, last = "2022-01-10", "2022-01-20"
        p = etl.cli("export", "--db", self.db, "--location", "US", "--per-100k", "--from", first,
                    "--to", last)
        self.assertEqual(p.returncode, 0, p.stderr)
        code, _, body = self.server.request(f"/api/v1/export.csv?location=US&from={first}&to={last}"
                                            "&per_100k=true")
        self.assertEqual((code, p.stdout), (200, body.decode()))
        s = self.series("US", first, last)
        got = [float(r["new_cases_avg7_per_100k"]) for r in csv.DictReader(p.stdout.splitlines())]
        self.assertEqual(got, s["new_cases_avg7_per_100k"])
        self.assertNotEqual(s["new_cases_avg7"], s["new_cases_avg7_raw"])  # the states' sums

    def test_states_table_uses_the_same_averages(self):
        table = self.server.get_json("/api/v1/states")
        tx = next(r for r in table["states"] if r["id"] == "48")
        s = self.server.get_json(f"/api/v1/series?location=48&from={table['date']}&to={table['date']}")
        self.assertEqual(tx["new_cases_avg7"], s["new_cases_avg7"][0])

    def test_fields_select_raw_and_omitted(self):
        s = self.server.get_json("/api/v1/series?location=48&from=2022-01-14&to=2022-01-14"
                                 "&fields=new_cases_avg7_raw,omitted")
        self.assertEqual(set(s) - {"location", "from", "to", "count", "date"}, {"new_cases_avg7_raw", "omitted"})

    def test_annotations_api(self):
        a = self.server.get_json("/api/v1/annotations?location=48&from=2022-01-14&to=2022-01-14")
        self.assertEqual(a["location"], "48")
        self.assertEqual(sorted((n["adjusted_count"], n["omit_from_average"]) for n in a["annotations"]),
                         [(-26236, False), (0, False)])
        for n in a["annotations"]:
            self.assertEqual((n["from"], n["to"], n["type"]), ("2022-01-14", "2022-01-14", "cases"))
        # Overlap: a range note is returned for any date inside it.
        ranged = next(r for r in self.rows if r["end_date"] and r["geoid"] == "USA-29997")
        inside = day(ranged["date"]) + datetime.timedelta(days=1)
        got = self.server.get_json(f"/api/v1/annotations?location=29:Joplin&from={inside}&to={inside}")
        self.assertIn((ranged["date"], ranged["end_date"]), [(n["from"], n["to"]) for n in got["annotations"]])
        every = self.server.get_json("/api/v1/annotations?location=48")["annotations"]
        self.assertEqual(len(every), sum(1 for r in self.rows if r["geoid"] == "USA-48"))
        self.assertEqual([n["from"] for n in every], sorted(n["from"] for n in every))
        for bad in ("location=99", "location=48&from=2022-13-01", "location=48&from=2022-02-01&to=2022-01-01",
                    "location=48&x=1"):
            code, _, _ = self.server.request("/api/v1/annotations?" + bad)
            self.assertEqual(code, 400, bad)


def _on(module, mixin):
    """The mixin of another test module (imported here only when a class of this one is run, so
    that its test classes do not join this module's)."""
    import importlib
    return getattr(importlib.import_module(module), mixin)


class AnnotationsOnPostgres(_on("test_postgres", "OnPostgres"), AnnotationsLoad):
    """The same load, revisions, removals and bad inputs on PostgreSQL."""


class AnnotationsOnDynamo(_on("test_dynamodb", "OnDynamo"), TempDirTest):
    """DynamoDB: the notes in the -meta table, read back exactly (a rerun finds every one
    unchanged), revised and kept as on SQLite, and served the same."""

    def test_load_rerun_revise_and_serve(self):
        rows = anomalies()
        code, s, err = run_json(self.db, NYT, JHU, "--anomalies", ANOMALIES)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["annotations"]["inserted"], len(rows))
        items = self.meta("annotation")
        self.assertEqual(len(items), len(rows))
        # Read back exactly: a dry run (which reads the file: a rerun of the same bytes would not)
        # finds every note unchanged.
        code, s, err = run_json(self.db, NYT, JHU, "--anomalies", ANOMALIES, "--dry-run")
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["levels"]["annotations"]["unchanged"]), ("unchanged", len(rows)))
        changed = [dict(r) for r in rows]
        changed[2]["description"] = "A revised note."
        changed.pop(1)
        code, s, err = run_json(self.db, NYT, JHU, "--anomalies", write_anomalies(self.path("a2.csv"), changed))
        self.assertEqual(code, 0, err)
        a = s["levels"]["annotations"]
        self.assertEqual((a["inserted"], a["updated"], a["missing"]), (0, 1, 1), a)
        self.assertEqual(len(self.meta("annotation")), len(rows))
        # The same answers as SQLite's for the same files.
        sqlite_db = self.path("same.db")
        self.assertEqual(run_json(sqlite_db, NYT, JHU, "--anomalies", ANOMALIES)[0], 0)
        self.assertEqual(run_json(sqlite_db, NYT, JHU, "--anomalies", self.path("a2.csv"))[0], 0)
        theirs, ours = Server(self.db), Server(sqlite_db)
        try:
            for q in ("location=48", "location=13&from=2020-04-01&to=2020-04-30", "location=US",
                      "location=36:New York City".replace(" ", "%20")):
                self.assertEqual(theirs.get_json("/api/v1/annotations?" + q), ours.get_json("/api/v1/annotations?" + q), q)
        finally:
            theirs.kill()
            ours.kill()


if __name__ == "__main__":
    unittest.main()
