"""The NYT county series on a small generated set (gen-nyt-like --counties 120 --days 60).

gen-nyt-like writes us.csv, us-states.csv and us-counties.csv where the national and state rows are
exact sums of the counties; it is generated into a temporary directory, never into the repo.
"""
import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from collections import defaultdict

from etl import JHU, SHARED, TempDirTest, cli, export

GEN = os.path.join(os.path.dirname(SHARED), "tools", "gen-nyt-like")


def county_location(row, state_codes):
    return row["fips"] if row["fips"] else f"{state_codes[row['state']]}:{row['county']}"


def generate(cls, counties, days):
    """gen-nyt-like's files in a temporary directory removed after the test class; its path."""
    gen = tempfile.mkdtemp(prefix="covid-etl-gen-")
    cls.addClassCleanup(shutil.rmtree, gen, True)
    subprocess.run([GEN, gen, "--counties", str(counties), "--days", str(days)], check=True,
                   capture_output=True, timeout=120)
    return gen


class CountiesLoad(TempDirTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gen = generate(cls, 120, 60)
        cls.files = {n: os.path.join(cls.gen, f"us-{n}.csv") for n in ("states", "counties")}
        cls.files["nyt"] = os.path.join(cls.gen, "us.csv")
        with open(cls.files["states"], newline="") as f:
            cls.states = list(csv.DictReader(f))
        with open(cls.files["counties"], newline="") as f:
            cls.counties = list(csv.DictReader(f))
        cls.codes = {r["state"]: r["fips"].zfill(2) for r in cls.states}

    def run_all(self, counties=None, *extra):
        p = cli("run", "--json", "--db", self.db, "--nyt", self.files["nyt"], "--jhu", JHU,
                "--states", self.files["states"], "--counties", counties or self.files["counties"], *extra)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr

    def test_loads_and_the_sums_check_out(self):
        code, s, err = self.run_all()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["inserted"], len(self.counties))
        locations = {county_location(r, self.codes) for r in self.counties}
        self.assertEqual(s["levels"]["county"]["locations"], len(locations))
        # Every county row is stored as given; an empty deaths is unknown (NULL).
        stored = {(r[0][1:], r[1]): (r[2], r[3], r[4]) for r in self.sql(
            "SELECT 'x' || o.location, o.date, o.cases, o.deaths, o.recovered FROM observations o "
            "JOIN locations l ON l.id = o.location WHERE l.type = 'county'")}
        self.assertEqual(len(stored), len(self.counties))
        empty_deaths = 0
        for r in self.counties:
            deaths = int(r["deaths"]) if r["deaths"] else None
            empty_deaths += deaths is None
            self.assertEqual(stored[(county_location(r, self.codes), r["date"])],
                             (int(r["cases"]), deaths, None), r)
        self.assertGreater(empty_deaths, 0)
        # The state rows loaded are the sums of their counties (unknown deaths count as none),
        # computed here from what the database holds; and the national rows the sums of those.
        sums = defaultdict(lambda: [0, 0])
        for (loc, date), (cases, deaths, _) in stored.items():
            sums[(loc[:2], date)][0] += cases
            sums[(loc[:2], date)][1] += deaths or 0
        states = {(r[0][1:], r[1]): [r[2], r[3]] for r in self.sql(
            "SELECT 'x' || location, date, cases, deaths FROM observations WHERE length(location) = 2 AND location <> 'US'")}
        self.assertEqual(states, dict(sums))
        national = defaultdict(lambda: [0, 0])
        for (_, date), (c, d) in states.items():
            national[date][0] += c
            national[date][1] += d
        us = {r[0]: [r[1], r[2]] for r in self.sql("SELECT date, cases, deaths FROM observations WHERE location = 'US'")}
        self.assertEqual(us, dict(national))
        # Unknown and no-FIPS entries are kept apart per state, named in the locations table.
        unknown = self.sql("SELECT 'x' || id, name, state, fips FROM locations WHERE name = 'Unknown' ORDER BY id")
        want = sorted({(f"x{self.codes[r['state']]}:Unknown", "Unknown", r["state"], None)
                       for r in self.counties if r["county"] == "Unknown"})
        self.assertGreater(len(want), 1)
        self.assertEqual(unknown, want)
        # export --location for a county with and without FIPS equals the file's rows.
        for loc in (next(county_location(r, self.codes) for r in self.counties if r["fips"]),
                    "36:New York City"):
            rows = list(csv.reader(io.StringIO(export(self.db, "--location", loc))))
            want = sorted([r["date"], r["cases"], r["deaths"], ""] for r in self.counties
                          if county_location(r, self.codes) == loc)
            self.assertTrue(want, loc)
            self.assertEqual(rows[1:], want, loc)

    def test_replays_unchanged_then_with_a_revision(self):
        self.assertEqual(self.run_all()[0], 0)
        code, s, err = self.run_all()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        self.assertTrue(all(x["not_modified"] for x in s["sources"]), s["sources"])  # the same bytes
        code, s, err = self.run_all(None, "--dry-run")  # read: every row as stored
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["unchanged"], len(self.counties))
        revised = [dict(r) for r in self.counties]
        target = next(r for r in revised if r["fips"] and r["date"] == "2020-02-15")
        target["cases"] = str(int(target["cases"]) + 3)
        path = self.path("revised.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["date", "county", "state", "fips", "cases", "deaths"],
                               lineterminator="\n")
            w.writeheader()
            w.writerows(revised)
        code, s, err = self.run_all(path)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["inserted"], s["updated"]), (0, 1))
        self.assertEqual(s["levels"]["county"]["updated"], 1)
        rev = self.sql("SELECT 'x' || location, date, new_cases - old_cases FROM revisions WHERE run_id = ?",
                       (s["run_id"],))
        self.assertEqual(rev, [("x" + target["fips"], "2020-02-15", 3)])
        msg = self.sql("SELECT subject FROM outbox WHERE run_id = ?", (s["run_id"],))
        self.assertIn("1 county updated for 2020-02-15, 1 revised", msg[0][0])

    def test_a_bad_county_row_fails_with_its_place(self):
        with open(self.files["counties"], encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        bad = lines[5].split(",")
        bad[3] = "6037"  # four digits
        lines[5] = ",".join(bad)
        path = self.path("bad.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        code, s, err = self.run_all(path)
        self.assertEqual(code, 2, err)
        e = s["errors"][0]
        column = len(",".join(bad[:3])) + 2
        self.assertEqual((e["file"], e["line"], e["column"]), (path, 6, column), e)
        self.assertIn("not a 5-digit county FIPS code", e["message"])
        self.assertEqual(self.sql("SELECT count(*) FROM observations"), [(0,)])


class CountiesByDate(TempDirTest):
    """The county load goes date by date: unchanged dates are skipped by their digest, new dates
    inserted together, revised dates compared row by row; rows never all in memory."""

    FIELDS = ["date", "county", "state", "fips", "cases", "deaths"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gen = generate(cls, 80, 40)
        cls.file = os.path.join(cls.gen, "us-counties.csv")
        with open(cls.file, newline="") as f:
            cls.rows = list(csv.DictReader(f))
        with open(os.path.join(cls.gen, "us-states.csv"), newline="") as f:
            cls.codes = {r["state"]: r["fips"].zfill(2) for r in csv.DictReader(f)}
        cls.dates = sorted({r["date"] for r in cls.rows})

    def setUp(self):
        super().setUp()
        self.config = self.write("counties.toml", "[datasets]\nnational = false\nstates = false\nworld = false\n")

    def copy(self):
        """The county file under another name: its bytes are read again (a file whose bytes are
        those the last run loaded is not)."""
        return shutil.copy(self.file, self.path("same-rows.csv"))

    def save(self, name, rows):
        path = self.path(name)
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.FIELDS, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        return path

    def run_counties(self, *files, extra=()):
        args = ["run", "--json", "--config", self.config, "--db", self.db]
        for f in files:
            args += ["--counties", f]
        p = cli(*args, *extra)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr

    def stored(self):
        return {(loc, date): (cases, deaths) for loc, date, cases, deaths in self.sql(
            "SELECT location, date, cases, deaths FROM observations WHERE location <> 'US'")}

    def expected(self, rows):
        return {(county_location(r, self.codes), r["date"]):
                (int(r["cases"]), int(r["deaths"]) if r["deaths"] else None) for r in rows}

    def test_a_new_day_is_inserted_and_the_rest_skipped(self):
        last = self.dates[-1]
        before = [r for r in self.rows if r["date"] != last]
        code, s, err = self.run_counties(self.save("before.csv", before))
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["inserted"], len(before))
        code, s, err = self.run_counties(self.file)
        self.assertEqual(code, 0, err)
        new = len(self.rows) - len(before)
        c = s["levels"]["county"]
        self.assertEqual((c["inserted"], c["updated"], c["unchanged"], c["missing"]), (new, 0, len(before), 0))
        self.assertEqual(c["last_changed"], last)
        self.assertEqual(c["locations_changed"], new)
        self.assertEqual(self.stored(), self.expected(self.rows))
        # One digest per date, each covering the rows held for it.
        digests = self.sql("SELECT date, rows, stored_rows FROM date_digests WHERE level = 'county' ORDER BY date")
        per_date = defaultdict(int)
        for r in self.rows:
            per_date[r["date"]] += 1
        self.assertEqual(digests, [(d, per_date[d], per_date[d]) for d in self.dates])
        # The same file again: nothing to do (not even read: issue 17, Speed); the same rows under
        # another name: read, every date skipped by its digest.
        code, s, err = self.run_counties(self.file)
        self.assertEqual((code, s["status"], s["sources"][0]["not_modified"]), (0, "unchanged", True), err)
        code, s, err = self.run_counties(self.copy())
        self.assertEqual((code, s["status"], s["levels"]["county"]["unchanged"]), (0, "unchanged", len(self.rows)), err)

    def test_revised_dropped_and_vanished_rows(self):
        self.assertEqual(self.run_counties(self.file)[0], 0)
        rows = [dict(r) for r in self.rows]
        revised = next(r for r in rows if r["fips"] and r["date"] == self.dates[10])
        revised["cases"] = str(int(revised["cases"]) + 7)
        dropped = next(r for r in rows if r["date"] == self.dates[20])
        vanished = self.dates[30]
        kept = [r for r in rows if r is not dropped and r["date"] != vanished]
        code, s, err = self.run_counties(self.save("revised.csv", kept))
        self.assertEqual(code, 0, err)
        gone = sum(r["date"] == vanished for r in rows)
        c = s["levels"]["county"]
        self.assertEqual((c["inserted"], c["updated"], c["missing"]), (0, 1, 1 + gone), c)
        self.assertEqual(c["last_changed"], self.dates[10])
        self.assertEqual(self.sql("SELECT location, date, old_cases, new_cases FROM revisions WHERE run_id = ?",
                                  (s["run_id"],)),
                         [(revised["fips"], self.dates[10], int(revised["cases"]) - 7, int(revised["cases"]))])
        # Rows the source dropped are kept, never deleted.
        want = self.expected(self.rows)
        want[(revised["fips"], self.dates[10])] = (int(revised["cases"]), want[(revised["fips"], self.dates[10])][1])
        self.assertEqual(self.stored(), want)
        # Run again: the changed dates are now known, nothing changes.
        code, s, err = self.run_counties(self.save("revised.csv", kept))
        self.assertEqual((code, s["status"], s["updated"], s["inserted"]), (0, "unchanged", 0, 0), err)

    def test_files_split_by_year_load_like_one(self):
        split = self.dates[len(self.dates) // 2]
        first = self.save("part1.csv", [r for r in self.rows if r["date"] < split])
        second = self.save("part2.csv", [r for r in self.rows if r["date"] >= split])
        code, s, err = self.run_counties(first, second)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["inserted"], len(self.rows))
        self.assertEqual(self.stored(), self.expected(self.rows))
        # Files in the wrong order overlap: an error naming the second file's first line.
        self.new_database()
        code, s, err = self.run_counties(second, first)
        self.assertEqual(code, 2, err)
        e = s["errors"][0]
        self.assertEqual((e["file"], e["line"], e["column"]), (first, 2, 1), e)
        self.assertIn("county files read together must cover separate dates", e["message"])
        self.assertFalse(self.sql("SELECT 1 FROM observations WHERE location <> 'US'"))

    def test_a_date_out_of_order_is_an_error_with_its_place(self):
        rows = list(self.rows)
        i = next(i for i, r in enumerate(rows) if r["date"] == self.dates[5])
        moved = rows.pop(i)
        rows.append(moved)  # an early date after the last one
        path = self.save("unsorted.csv", rows)
        code, s, err = self.run_counties(path)
        self.assertEqual(code, 2, err)
        e = s["errors"][0]
        self.assertEqual((e["file"], e["line"], e["column"]), (path, len(rows) + 1, 1), e)
        self.assertIn("ascending date order", e["message"])
        self.assertFalse(self.store_exists() and self.sql("SELECT 1 FROM observations WHERE location <> 'US'"))

    def test_rows_written_without_digests_are_compared_then_digested(self):
        self.assertEqual(self.run_counties(self.file)[0], 0)
        self.sql_write("DELETE FROM date_digests")  # as a database of schema version 2 has none
        code, s, err = self.run_counties(self.copy())  # the same rows, read (another file name)
        self.assertEqual((code, s["status"], s["unchanged"]), (0, "unchanged", len(self.rows)), err)
        self.assertEqual(self.sql("SELECT count(*) FROM date_digests")[0][0], len(self.dates))
        self.assertEqual(self.stored(), self.expected(self.rows))

    def test_dates_whose_lines_are_unchanged_are_not_even_parsed(self):
        self.assertEqual(self.run_counties(self.file)[0], 0)
        hashes = self.sql("SELECT count(*) FROM date_digests WHERE level = 'county' AND bytes_hash IS NOT NULL")
        self.assertEqual(hashes[0][0], len(self.dates))
        # A date's row digest altered behind the load's back: were the date parsed, its rows would
        # be compared with the stored ones and the digest written again. Its lines are the same
        # bytes as before, as are its neighbours', so it is skipped unread and the mark stays.
        quiet, mark = self.dates[20], [("0" * 32,)]
        self.sql_write(f"UPDATE date_digests SET hash = '{mark[0][0]}' WHERE level = 'county' AND date = '{quiet}'")
        code, s, err = self.run_counties(self.copy())  # read (a file of the same bytes is not)
        self.assertEqual((code, s["status"], s["levels"]["county"]["unchanged"]), (0, "unchanged", len(self.rows)), err)
        self.assertEqual(s["levels"]["county"]["locations"], len({county_location(r, self.codes) for r in self.rows}))
        self.assertEqual(self.sql(f"SELECT hash FROM date_digests WHERE date = '{quiet}'"), mark)
        # A revision next door makes the date parsed again (a date is only skipped with both its
        # neighbours unchanged, since a row moved across the boundary changes two dates).
        rows = [dict(r) for r in self.rows]
        revised = next(r for r in rows if r["date"] == self.dates[21])
        revised["cases"] = str(int(revised["cases"]) + 3)
        code, s, err = self.run_counties(self.save("revised.csv", rows))
        self.assertEqual((code, s["levels"]["county"]["updated"]), (0, 1), err)
        self.assertNotEqual(self.sql(f"SELECT hash FROM date_digests WHERE date = '{quiet}'"), mark)

    def test_a_county_renamed_on_new_dates_only_is_an_error_though_old_dates_are_skipped(self):
        # A county under a new name on the new date, absent from the date before it: its old name
        # is only on dates skipped unread, so it is the store that knows it.
        last, before_last = self.dates[-1], self.dates[-2]
        fips = next(r["fips"] for r in self.rows if r["fips"] and r["date"] == self.dates[0])
        rows = [dict(r) for r in self.rows if not (r["fips"] == fips and r["date"] == before_last)]
        self.assertEqual(self.run_counties(self.save("before.csv", [r for r in rows if r["date"] != last]))[0], 0)
        i, renamed = next((i, r) for i, r in enumerate(rows) if r["fips"] == fips and r["date"] == last)
        old = renamed["county"]
        renamed["county"] = "Renamed"
        path = self.save("renamed.csv", rows)
        message = f"fips {fips} is 'Renamed', '{renamed['state']}' here but '{old}', '{renamed['state']}'"
        code, s, err = self.run_counties(path)
        self.assertEqual(code, 2, err)
        e = s["errors"][0]
        self.assertEqual((e["file"], e["line"], e["column"]), (path, i + 2, 12), e)
        self.assertIn(message + f" on {self.dates[0]} (the date's rows from line 2)", e["message"])
        self.assertEqual(self.stored(), self.expected([r for r in rows if r["date"] != last]))
        # Every line parsed (a database without line hashes), the same file fails alike.
        self.sql_write("UPDATE date_digests SET bytes_hash = NULL")
        code, s, err = self.run_counties(path)
        self.assertEqual(code, 2, err)
        self.assertIn(message, s["errors"][0]["message"])

    def test_a_county_renamed_throughout_is_renamed_though_other_dates_are_skipped(self):
        self.assertEqual(self.run_counties(self.file)[0], 0)
        first_date = {}
        for r in self.rows:
            if r["fips"]:
                first_date.setdefault(r["fips"], r["date"])
        fips = max(first_date, key=lambda f: first_date[f])  # the latest to appear: no row on early dates
        self.assertGreater(first_date[fips], self.dates[2])
        rows = [dict(r, county="Renamed") if r["fips"] == fips else r for r in self.rows]
        code, s, err = self.run_counties(self.save("renamed.csv", rows))
        self.assertEqual((code, s["status"]), (0, "unchanged"), err)
        self.assertEqual(self.sql("SELECT name FROM locations WHERE id = ?", (fips,)), [("Renamed",)])

    def test_a_database_without_line_hashes_gets_them_on_its_next_run(self):
        self.assertEqual(self.run_counties(self.file)[0], 0)
        self.sql_write("UPDATE date_digests SET bytes_hash = NULL")  # as schema version 3 left them
        code, s, err = self.run_counties(self.copy())  # read (a file of the same bytes is not)
        self.assertEqual((code, s["status"]), (0, "unchanged"), err)
        hashes = self.sql("SELECT count(*) FROM date_digests WHERE bytes_hash IS NOT NULL")
        self.assertEqual(hashes[0][0], len(self.dates))
        self.assertEqual(self.stored(), self.expected(self.rows))

    def test_a_dry_run_reports_what_the_load_does(self):
        code, dry, err = self.run_counties(self.file, extra=("--dry-run",))
        self.assertEqual(code, 0, err)
        code, real, err = self.run_counties(self.file)
        self.assertEqual(code, 0, err)
        for k in ("inserted", "updated", "unchanged", "missing"):
            self.assertEqual(dry["levels"]["county"][k], real["levels"]["county"][k], k)


if __name__ == "__main__":
    unittest.main()
