"""Populations (JHU's lookup table) end to end: load, rerun, changed figure, bad inputs, the rates
per 100,000 in `export --per-100k` and the API, and the same answers on PostgreSQL and DynamoDB.

Expected populations are read here from ../shared/data/jhu/UID_ISO_FIPS_LookUp_Table.csv with
Python's csv module, and rates are computed here from the NYT files, never taken from the
product's code.
"""
import csv
import io
import json
import os
import unittest

import etl
from etl import JHU, NYT, SHARED, TempDirTest, cli, export, read_csv, run_json

LOOKUP = os.path.join(SHARED, "jhu", "UID_ISO_FIPS_LookUp_Table.csv")
STATES = os.path.join(SHARED, "nyt", "us-states.csv")
SOURCE = "JHU CSSE UID_ISO_FIPS_LookUp_Table"
BOROUGHS = ("36005", "36047", "36061", "36081", "36085")
PARTIAL = ("29037", "29047", "29095", "29165", "29097", "29145")  # without Kansas City / Joplin


def lookup_rows(path=LOOKUP):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_fips(rows):
    return {r["FIPS"]: r for r in rows if r["FIPS"]}


def figure(rows, fips):
    return int(by_fips(rows)[fips]["Population"])


def write_lookup(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    return path


def expected_count(rows):
    """How many populations the documented rules give (README "Populations")."""
    states = {"01", "02", "04", "05", "06", "08", "09", "10", "11", "12", "13", "15", "16", "17", "18", "19",
              "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35",
              "36", "37", "38", "39", "40", "41", "42", "44", "45", "46", "47", "48", "49", "50", "51", "53",
              "54", "55", "56", "60", "66", "69", "72", "78"}
    ids = set()
    countries = {r["iso3"] for r in rows if not r["Province_State"] and not r["Admin2"] and r["iso3"]}
    territories = {}
    for r in rows:
        if not r["Population"] or int(r["Population"]) == 0:
            continue
        f = r["FIPS"]
        if f:
            if len(f) == 2 or (f.startswith("000") and not r["Admin2"]):
                ids.add(f[-2:])
            elif f[:2] in states and f not in PARTIAL:
                ids.add(f)
        elif not r["Province_State"] and not r["Admin2"]:
            if r["iso3"]:
                ids.add(r["iso3"])
                if r["iso3"] == "USA":
                    ids.add("US")
        elif not r["Admin2"]:
            if r["iso3"] and r["iso3"] not in countries:
                territories.setdefault(r["iso3"], []).append(r)
        elif r["Country_Region"] == "US" and r["Province_State"] in NAMES:
            ids.add(NAMES[r["Province_State"]] + ":" + r["Admin2"])
    ids |= {iso3 for iso3, rs in territories.items() if len(rs) == 1}
    ids.add("36:New York City")
    return len(ids)


# State names as NYT spells them (the table's Province_State), for the FIPS-less rows.
NAMES = {"Missouri": "29", "Massachusetts": "25", "Utah": "49", "Michigan": "26", "New York": "36"}


def write_counties(path, days=10):
    """A small NYT-shaped county file: New York City, Kansas City, Joplin, Missouri's Unknown,
    Jackson (MO, without Kansas City) and Los Angeles, `days` dates, cases growing by known
    steps."""
    places = [("New York City", "New York", "", 1000, 37), ("Kansas City", "Missouri", "", 500, 11),
              ("Joplin", "Missouri", "", 50, 3), ("Unknown", "Missouri", "", 20, 1),
              ("Jackson", "Missouri", "29095", 300, 5), ("Los Angeles", "California", "06037", 4000, 123)]
    lines = ["date,county,state,fips,cases,deaths"]
    for d in range(days):
        date = f"2020-05-{d + 1:02d}"
        for county, state, fips, base, step in places:
            lines.append(f"{date},{county},{state},{fips},{base + step * d * (d + 1) // 2},{d}")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines) + "\n")
    return path


def rates(series, population):
    """Independent per-100k figures: [(date, cases_per_100k, deaths_per_100k, avg7_cases, avg7_deaths)]
    from [(date, cases, deaths)] sorted by date, consecutive. The averages are the Times' over
    reports (README, "The 7-day averages"; no notes here): a date on which neither count changed is
    one without a report; from the last report r on or before the date, back to the latest
    report b (or the first date) with r - b >= 7, the average is the counts' rise over r - b days."""
    reports = [0] + [i for i in range(1, len(series)) if series[i][1:] != series[i - 1][1:]]
    out = []
    for i, (date, cases, deaths) in enumerate(series):
        def avg(col):
            ends = [k for k in reports if k <= i]
            if len(ends) < 2:
                return None
            r = ends.pop()
            while ends and r - ends[-1] < 7:
                ends.pop()
            if not ends:
                return None
            b = ends[-1]
            return (series[r][col] - series[b][col]) / (r - b)
        ac, ad = avg(1), avg(2)
        out.append((date, round(cases * 100000 / population, 2), round(deaths * 100000 / population, 2),
                    None if ac is None else round(ac * 100000 / population, 2),
                    None if ad is None else round(ad * 100000 / population, 2)))
    return out


def number(text):
    return None if text == "" else float(text)


class PopulationsLoad(TempDirTest):
    def run_all(self, lookup=LOOKUP, *extra):
        return run_json(self.db, NYT, JHU, "--population", lookup, *extra)

    def populations(self):
        return {loc: (pop, src, year) for loc, pop, src, year in
                self.sql("SELECT location, population, source, year FROM populations")}

    def test_real_table_loads_every_rule(self):
        rows = lookup_rows()
        code, s, err = self.run_all()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "ok")
        self.assertIn("population", [src["name"] for src in s["sources"]])
        n = expected_count(rows)
        self.assertEqual(s["levels"]["populations"]["inserted"], n)
        got = self.populations()
        self.assertEqual(len(got), n)
        self.assertEqual(got["06"], (figure(rows, "00006"), SOURCE, 2019))
        self.assertEqual(got["06037"], (figure(rows, "06037"), SOURCE, 2019))
        kosovo = [r for r in rows if r["Country_Region"] == "Kosovo" and not r["Province_State"]]
        self.assertEqual(got["XKS"], (int(kosovo[0]["Population"]), SOURCE, None))
        self.assertEqual(got["US"][0], int([r for r in rows if r["iso3"] == "USA" and not r["Province_State"]][0]["Population"]))
        city = sum(figure(rows, b) for b in BOROUGHS)
        self.assertEqual(got["36:New York City"][0], city)
        self.assertLess(figure(rows, "36061"), city / 4)  # 36061 is Manhattan, not the city
        kc = [r for r in rows if r["Admin2"] == "Kansas City"][0]
        self.assertEqual(got["29:Kansas City"][0], int(kc["Population"]))
        for fips in PARTIAL:
            self.assertNotIn(fips, got)
        self.assertNotIn("29:Joplin", got)
        self.assertFalse([k for k in got if "Unknown" in k or k.startswith(("80", "90"))])

    def test_rerun_changes_nothing_and_a_changed_figure_is_updated(self):
        self.assertEqual(self.run_all()[0], 0)
        before = self.sql("SELECT location, population, source, year, run_id FROM populations ORDER BY location")
        code, s, err = self.run_all()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        self.assertTrue(all(x["not_modified"] for x in s["sources"]), s["sources"])  # the same bytes
        code, s, err = self.run_all(LOOKUP, "--dry-run")  # read: every figure as stored
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["populations"]["unchanged"], len(before))
        self.assertEqual(self.sql("SELECT location, population, source, year, run_id FROM populations ORDER BY location"),
                         before)
        # California's figure changes; Alabama's row goes: updated, and kept.
        rows = lookup_rows()
        changed = []
        for r in rows:
            if r["FIPS"] == "00001":
                continue
            if r["FIPS"] == "00006":
                r = dict(r, Population=str(int(r["Population"]) + 1000))
            changed.append(r)
        path = write_lookup(self.path("lookup.csv"), changed)
        code, s, err = self.run_all(path)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "ok")
        self.assertEqual((s["levels"]["populations"]["updated"], s["levels"]["populations"]["inserted"],
                          s["levels"]["populations"]["missing"]), (1, 0, 1))
        got = self.populations()
        self.assertEqual(got["06"][0], figure(rows, "00006") + 1000)
        self.assertEqual(got["01"][0], figure(rows, "00001"))  # a known value never disappears

    def test_bad_number_and_fips_twice_fail_with_file_line_column(self):
        self.assertEqual(self.run_all()[0], 0)
        before = self.sql("SELECT * FROM populations ORDER BY location")
        rows = lookup_rows()
        bad = [dict(r) for r in rows]
        i = next(k for k, r in enumerate(bad) if r["FIPS"] == "06037")
        bad[i]["Population"] = "10,039,107"  # a thousands separator: quoted by the writer
        path = write_lookup(self.path("bad.csv"), bad)
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\r\n")
        column = lines[i + 1].index('"10,039,107"') + 1
        p = cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--population", path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"bad.csv:{i + 2}:{column}: Population", p.stderr)
        twice = [dict(r) for r in rows]
        j = next(k for k, r in enumerate(twice) if r["FIPS"] == "36001")
        twice[j + 1]["FIPS"] = "36001"
        path = write_lookup(self.path("twice.csv"), twice)
        p = cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--population", path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"twice.csv:{j + 3}:", p.stderr)
        self.assertIn("36001 appears twice", p.stderr)
        self.assertEqual(self.sql("SELECT * FROM populations ORDER BY location"), before)

    def test_rates_in_export_against_independent_values(self):
        code, s, err = run_json(self.db, NYT, JHU, "--states", STATES, "--population", LOOKUP)
        self.assertEqual(code, 0, err)
        pop = figure(lookup_rows(), "00006")
        series = [(r["date"], int(r["cases"]), int(r["deaths"])) for r in read_csv(STATES) if r["fips"] == "6"]
        expected = rates(series, pop)
        got = read_csv_text(export(self.db, "--location", "06", "--per-100k"))
        self.assertEqual(len(got), len(expected))
        for e, g in zip(expected, got):
            self.assertEqual(e[0], g["date"])
            self.assertEqual((e[1], e[2], e[3], e[4]),
                             (number(g["cases_per_100k"]), number(g["deaths_per_100k"]),
                              number(g["new_cases_avg7_per_100k"]), number(g["new_deaths_avg7_per_100k"])),
                             e[0])
        # Without --per-100k the export is as before.
        self.assertEqual(export(self.db, "--location", "06").splitlines()[0], "date,cases,deaths,recovered")
        js = json.loads(export(self.db, "--location", "06", "--per-100k", "--format", "json"))
        self.assertEqual(js[-1]["cases_per_100k"], expected[-1][1])

    def test_nyt_places_and_null_rates(self):
        counties = write_counties(self.path("counties.csv"))
        code, s, err = run_json(self.db, NYT, JHU, "--counties", counties, "--population", LOOKUP)
        self.assertEqual(code, 0, err)
        rows = lookup_rows()
        city = sum(figure(rows, b) for b in BOROUGHS)
        kc = int([r for r in rows if r["Admin2"] == "Kansas City"][0]["Population"])
        county_rows = read_csv(counties)
        for loc, name, pop in (("36:New York City", "New York City", city), ("29:Kansas City", "Kansas City", kc),
                               ("06037", "Los Angeles", figure(rows, "06037"))):
            series = [(r["date"], int(r["cases"]), int(r["deaths"])) for r in county_rows if r["county"] == name]
            got = read_csv_text(export(self.db, "--location", loc, "--per-100k"))
            self.assertEqual([(g["date"], number(g["cases_per_100k"]), number(g["deaths_per_100k"]),
                               number(g["new_cases_avg7_per_100k"]), number(g["new_deaths_avg7_per_100k"]))
                              for g in got], rates(series, pop), loc)
        for loc in ("29:Joplin", "29:Unknown", "29095"):
            got = read_csv_text(export(self.db, "--location", loc, "--per-100k"))
            self.assertEqual(len(got), 10, loc)
            for g in got:
                self.assertEqual([g[k] for k in ("cases_per_100k", "deaths_per_100k", "new_cases_avg7_per_100k",
                                                 "new_deaths_avg7_per_100k")], ["", "", "", ""], loc)

    def test_populations_alone(self):
        # [datasets] national and states off: a run of reference data only.
        cfg = self.write("c.toml", "[datasets]\nnational = false\nstates = false\n")
        p = cli("run", "--json", "--db", self.db, "--config", cfg, "--population", LOOKUP)
        self.assertEqual(p.returncode, 0, p.stderr)
        s = json.loads(p.stdout)
        self.assertEqual(s["status"], "ok")
        self.assertEqual(s["levels"]["populations"]["inserted"], expected_count(lookup_rows()))


def read_csv_text(text):
    return list(csv.DictReader(io.StringIO(text)))


class PopulationsApi(TempDirTest):
    def test_locations_series_and_states(self):
        from test_serve import Server
        counties = write_counties(self.path("counties.csv"))
        code, s, err = run_json(self.db, NYT, JHU, "--states", STATES, "--counties", counties,
                                "--population", LOOKUP)
        self.assertEqual(code, 0, err)
        rows = lookup_rows()
        server = Server(self.db)
        self.addCleanup(server.kill)
        locs = server.get_json("/api/v1/locations?limit=1000")["locations"]
        pops = {l["id"]: l["population"] for l in locs}
        self.assertEqual(pops["06"], figure(rows, "00006"))
        self.assertEqual(pops["36:New York City"], sum(figure(rows, b) for b in BOROUGHS))
        self.assertIsNone(pops["29:Joplin"])
        self.assertIsNone(pops["29:Unknown"])
        self.assertIsNone(pops["29095"])
        self.assertTrue(all("population" in l for l in locs))
        # The series: the four rates, selectable with `fields`.
        pop = figure(rows, "00006")
        series = [(r["date"], int(r["cases"]), int(r["deaths"])) for r in read_csv(STATES) if r["fips"] == "6"]
        expected = rates(series, pop)
        j = server.get_json("/api/v1/series?location=06")
        self.assertEqual(j["cases_per_100k"][-1], expected[-1][1])
        self.assertEqual(j["new_cases_avg7_per_100k"], [e[3] for e in expected])
        self.assertEqual(j["new_deaths_avg7_per_100k"], [e[4] for e in expected])
        self.assertEqual(j["deaths_per_100k"], [e[2] for e in expected])
        j = server.get_json("/api/v1/series?location=06&fields=cases_per_100k&from=2021-01-01&to=2021-01-03")
        self.assertEqual(sorted(k for k in j if isinstance(j[k], list)), ["cases_per_100k", "date"])
        self.assertEqual(j["cases_per_100k"], [e[1] for e in expected if "2021-01-01" <= e[0] <= "2021-01-03"])
        j = server.get_json("/api/v1/series?location=29:Unknown")
        self.assertEqual(set(j["cases_per_100k"]) | set(j["new_cases_avg7_per_100k"]), {None})
        # The states: the latest 7-day averages per 100,000.
        st = {x["id"]: x for x in server.get_json("/api/v1/states")["states"]}
        self.assertEqual(st["06"]["new_cases_avg7_per_100k"], expected[-1][3])
        self.assertEqual(st["06"]["new_deaths_avg7_per_100k"], expected[-1][4])
        # The API's export: byte for byte `export --per-100k`.
        for loc, query in (("06", "06"), ("36:New York City", "36%3ANew%20York%20City")):
            code, _, body = server.request(f"/api/v1/export.csv?location={query}&per_100k=true")
            self.assertEqual(code, 200)
            self.assertEqual(body.decode(), export(self.db, "--location", loc, "--per-100k"))
        code, _, body = server.request("/api/v1/export.csv?location=06&per_100k=yes")
        self.assertEqual(code, 400)
        code, err = server.stop()
        self.assertEqual(code, 0, err)


def small_lookup(path):
    """The table's header and a few rows: countries, California, New York and its boroughs,
    Missouri with Kansas City and Jackson, a pseudo-county."""
    keep = {"00006", "06037", "00036", "00029", "29095", "80036", *BOROUGHS}
    rows = [r for r in lookup_rows() if r["FIPS"] in keep or r["Admin2"] == "Kansas City"
            or (not r["Province_State"] and r["iso3"] in ("USA", "AFG", "XKS", "FRA"))]
    return write_lookup(path, rows)


class SameAnswers:
    """Mixed into a TempDirTest on another store: the same runs there and on SQLite give the same
    summaries and the same exports with rates."""

    def test_same_answers_as_sqlite(self):
        sqlite_db = self.path("same.db")
        with open(NYT, encoding="utf-8") as f:
            nyt = self.write("us.csv", "".join(f.readlines()[:40]))
        counties = write_counties(self.path("counties.csv"), days=9)
        lookup = small_lookup(self.path("lookup.csv"))
        rows = lookup_rows(lookup)
        changed = write_lookup(self.path("changed.csv"),
                               [dict(r, Population=str(int(r["Population"]) + 7)) if r["FIPS"] == "06037" else r
                                for r in rows])
        for table in (lookup, lookup, changed):
            a = run_json(sqlite_db, nyt, JHU, "--counties", counties, "--population", table)
            b = run_json(self.db, nyt, JHU, "--counties", counties, "--population", table)
            self.assertEqual(a[0], 0, a[2])
            self.assertEqual(b[0], 0, b[2])
            # (A county level's count of locations on a run that skips unchanged dates is not
            # comparable: DynamoDB keeps no names, see CountiesRun::block_locations.)
            for k in ("status", "inserted", "updated", "unchanged", "missing", "first_date", "last_date"):
                self.assertEqual(a[1][k], b[1][k], k)
            # (The second run's files are the first's bytes: neither store's run reads them.)
            self.assertEqual([x["not_modified"] for x in a[1]["sources"]],
                             [x["not_modified"] for x in b[1]["sources"]])
            self.assertEqual(a[1]["levels"].get("populations"), b[1]["levels"].get("populations"))
        self.assertEqual(b[1]["levels"]["populations"]["updated"], 1)
        for loc in ("US", "36:New York City", "29:Kansas City", "06037", "29095", "29:Unknown"):
            for fmt in ("csv", "json"):
                self.assertEqual(export(sqlite_db, "--location", loc, "--per-100k", "--format", fmt),
                                 export(self.db, "--location", loc, "--per-100k", "--format", fmt), loc)
        got = read_csv_text(export(self.db, "--location", "06037", "--per-100k"))
        pop = figure(rows, "06037") + 7
        self.assertEqual(number(got[0]["cases_per_100k"]), round(4000 * 100000 / pop, 2))


def _on_postgres():
    from test_postgres import OnPostgres
    return OnPostgres


def _on_dynamo():
    from test_dynamodb import OnDynamoRun
    return OnDynamoRun


class PopulationsOnPostgres(SameAnswers, _on_postgres(), TempDirTest):
    def test_stored_like_sqlite(self):
        lookup = small_lookup(self.path("lookup.csv"))
        code, s, err = run_json(self.db, NYT, JHU, "--population", lookup)
        self.assertEqual(code, 0, err)
        got = {l: (p, y) for l, p, y in self.sql("SELECT location, population, year FROM populations")}
        rows = lookup_rows(lookup)
        self.assertEqual(got["06"], (figure(rows, "00006"), 2019))
        self.assertEqual(got["AFG"][1], None)
        self.assertEqual(got["36:New York City"][0], sum(figure(rows, b) for b in BOROUGHS))


class PopulationsOnDynamo(SameAnswers, _on_dynamo()):
    def test_items_in_the_meta_table(self):
        lookup = small_lookup(self.path("lookup.csv"))
        code, s, err = run_json(self.db, NYT, JHU, "--population", lookup)
        self.assertEqual(code, 0, err)
        items = {i["sk"]: i for i in self.meta("population")}
        rows = lookup_rows(lookup)
        self.assertEqual(items["06"]["population"], figure(rows, "00006"))
        self.assertEqual(items["06"]["year"], 2019)
        self.assertNotIn("year", items["AFG"])
        self.assertEqual(items["36:New York City"]["source"], SOURCE + ": 36005 + 36047 + 36061 + 36081 + 36085")


if __name__ == "__main__":
    unittest.main()
