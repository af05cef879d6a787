"""The NYT state series end to end: load, rerun, revision, malformed rows, export --location.

The real file is ../shared/data/nyt/us-states.csv (its FIPS codes have lost their leading zeros:
"6" is California, stored as "06"). Expected values are read from that file here, never typed in.
"""
import csv
import io
import json
import os
import unittest

from etl import NYT, JHU, SHARED, TempDirTest, cli, export, run_json

STATES = os.path.join(SHARED, "nyt", "us-states.csv")


def state_rows(path=STATES):
    """{(2-digit fips, date): (state, cases, deaths)} from a state file."""
    out = {}
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[(r["fips"].zfill(2), r["date"])] = (r["state"], int(r["cases"]), int(r["deaths"]))
    return out


def write_states(path, rows):
    """Writes {(fips, date): (state, cases, deaths)} as a state file, by date then name."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("date,state,fips,cases,deaths\n")
        for (fips, date), (state, cases, deaths) in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[1][0])):
            f.write(f"{date},{state},{fips},{cases},{deaths}\n")


class StatesLoad(TempDirTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expected = state_rows()

    def run_states(self, states=STATES, *extra):
        return run_json(self.db, NYT, JHU, "--states", states, *extra)

    def test_real_state_file_loads_with_exact_values(self):
        code, s, err = self.run_states()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "ok")
        with open(NYT, encoding="utf-8") as f:
            national = sum(1 for _ in f) - 1
        self.assertEqual(s["inserted"], national + len(self.expected))
        self.assertEqual(s["levels"]["state"]["inserted"], len(self.expected))
        self.assertEqual(s["levels"]["nation"]["inserted"], national)
        fips = {k[0] for k in self.expected}
        self.assertEqual(s["levels"]["state"]["locations"], len(fips))
        self.assertIn("states", [src["name"] for src in s["sources"]])
        # A few state/date pairs: the first and last row of California, and a row of the middle
        # of the file, exactly as the file has them; recovered is unknown (NULL).
        ca = sorted(k for k in self.expected if k[0] == "06")
        keys = sorted(self.expected)
        for key in (ca[0], ca[-1], keys[len(keys) // 2], ("53", "2020-01-21")):
            state, cases, deaths = self.expected[key]
            got = self.sql("SELECT cases, deaths, recovered FROM observations WHERE location = ? AND date = ?", key)
            self.assertEqual(got, [(cases, deaths, None)], key)
        # The locations table: one row per state with its name and FIPS.
        # ('x' || keeps codes as text where a helper reads digits as numbers: PostgreSQL's.)
        rows = [(i[1:], t, n, f[1:]) for i, t, n, f in
                self.sql("SELECT 'x' || id, type, name, 'x' || fips FROM locations WHERE type = 'state' ORDER BY id")]
        self.assertEqual(len(rows), len(fips))
        names = {k[0]: v[0] for k, v in self.expected.items()}
        for id_, type_, name, f in rows:
            self.assertEqual((type_, name, f), ("state", names[id_], id_))
        # The national series is as before.
        self.assertEqual(len(self.sql("SELECT 1 FROM observations WHERE location = 'US'")), national)

    def test_rerun_is_unchanged(self):
        self.assertEqual(self.run_states()[0], 0)
        code, s, err = self.run_states()
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        self.assertEqual(s["inserted"] + s["updated"], 0)
        self.assertTrue(all(x["not_modified"] for x in s["sources"]), s["sources"])  # the same bytes
        code, s, err = self.run_states(STATES, "--dry-run")  # read: every row as stored
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["state"]["unchanged"], len(self.expected))

    def test_a_revised_state_row_is_an_update_with_a_revision(self):
        self.assertEqual(self.run_states()[0], 0)
        revised = dict(self.expected)
        key = ("06", "2021-01-01")
        state, cases, deaths = revised[key]
        revised[key] = (state, cases + 7, deaths)
        path = self.path("us-states-revised.csv")
        write_states(path, revised)
        code, s, err = self.run_states(path)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "ok")
        self.assertEqual((s["inserted"], s["updated"]), (0, 1))
        self.assertEqual(s["levels"]["state"]["updated"], 1)
        self.assertEqual(s["levels"]["state"]["locations_changed"], 1)
        self.assertEqual(s["levels"]["nation"]["updated"], 0)
        rev = self.sql("SELECT 'x' || location, date, old_cases, new_cases FROM revisions WHERE run_id = ?",
                       (s["run_id"],))
        rev = [(r[0][1:],) + tuple(r[1:]) for r in rev]
        self.assertEqual(rev, [("06", "2021-01-01", cases, cases + 7)])
        # The notification summarises by level instead of listing state rows.
        msg = self.sql("SELECT subject, body FROM outbox WHERE run_id = ?", (s["run_id"],))
        self.assertTrue(msg)
        self.assertIn("1 state updated for 2021-01-01, 1 revised", msg[0][0])

    def test_export_location_of_a_state_equals_the_file(self):
        self.assertEqual(self.run_states()[0], 0)
        out = export(self.db, "--location", "06")
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["date", "cases", "deaths", "recovered"])
        want = [[d, str(c), str(de), ""] for (f, d), (_, c, de) in sorted(self.expected.items()) if f == "06"]
        self.assertEqual(rows[1:], want)
        # US stays the default.
        self.assertEqual(export(self.db), export(self.db, "--location", "US"))
        js = json.loads(export(self.db, "--location", "36", "--format", "json", "--from", "2022-01-01",
                               "--to", "2022-01-01"))
        _, c, de = self.expected[("36", "2022-01-01")]
        self.assertEqual(js, [{"date": "2022-01-01", "cases": c, "deaths": de, "recovered": None}])
        # A name that is no location is a usage error (6 is California: a FIPS code without its zero).
        p = cli("export", "--db", self.db, "--location", "Atlantis")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--location", p.stderr)

    def test_national_only_without_a_states_source(self):
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        self.assertEqual([src["name"] for src in s["sources"]], ["nyt", "jhu"])
        self.assertEqual(self.sql("SELECT count(*) FROM observations WHERE location <> 'US'"), [(0,)])

    def test_states_source_from_the_environment_and_the_configuration(self):
        code, s, err = run_json(self.db, NYT, JHU, env={"COVID_ETL_STATES_URL": STATES})
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["state"]["inserted"], len(self.expected))
        # A list of URLs in the configuration is read in order; two files together make the series.
        rows = sorted(self.expected.items(), key=lambda kv: kv[0][1])
        half = len(rows) // 2
        a, b = self.path("a.csv"), self.path("b.csv")
        write_states(a, dict(rows[:half]))
        write_states(b, dict(rows[half:]))
        conf = self.write("c.toml", f'[sources]\nstates = ["{a}", "{b}"]\n')
        db2 = self.path("two.db")
        p = cli("run", "--json", "--config", conf, "--db", db2, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 0, p.stderr)
        s2 = json.loads(p.stdout)
        self.assertEqual(s2["levels"]["state"]["inserted"], len(self.expected))
        self.assertEqual([src["name"] for src in s2["sources"]], ["nyt", "jhu", "states", "states"])
        # [datasets] states = false turns them off even with a source configured.
        conf = self.write("off.toml", f'[sources]\nstates = "{a}"\n[datasets]\nstates = false\n')
        p = cli("run", "--json", "--config", conf, "--db", self.path("off.db"), "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("state", json.loads(p.stdout)["levels"])
        # A wrong type is a usage error naming the place.
        conf = self.write("counties.toml", "[datasets]\ncounties = 1\n")
        p = cli("run", "--config", conf, "--db", self.path("x.db"), "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("counties.toml:2:", p.stderr)


class StatesMalformed(TempDirTest):
    HEADER = "date,state,fips,cases,deaths\n"

    def check(self, text, line, column, message):
        path = self.write("bad-states.csv", text)
        code, s, err = run_json(self.db, NYT, JHU, "--states", path)
        self.assertEqual(code, 2, err)
        self.assertEqual(s["status"], "failed")
        self.assertEqual(s["stage"], "validate")
        e = s["errors"][0]
        self.assertEqual((e["file"], e["line"], e["column"]), (path, line, column), e)
        self.assertIn(message, e["message"])
        self.assertEqual(self.sql("SELECT count(*) FROM observations"), [(0,)])

    def test_bad_fips(self):
        self.check(self.HEADER + "2020-03-01,California,06,1,0\n2020-03-01,Texas,4X,1,0\n", 3, 18,
                   "not a 2-digit state FIPS code")

    def test_three_digit_fips(self):
        self.check(self.HEADER + "2020-03-01,California,006,1,0\n", 2, 23, "not a 2-digit state FIPS code")

    def test_duplicate_fips_and_date(self):
        self.check(self.HEADER + "2020-03-01,California,06,1,0\n2020-03-02,California,06,2,0\n"
                   "2020-03-01,California,6,1,0\n", 4, 1, "appears twice (first on line 2)")

    def test_missing_column(self):
        self.check("date,state,cases,deaths\n2020-03-01,California,1,0\n", 1, 1, "'fips'")

    def test_one_fips_under_two_names(self):
        self.check(self.HEADER + "2020-03-01,California,06,1,0\n2020-03-02,Nevada,06,2,0\n", 3, 19,
                   "'06' is the FIPS code of California, not of 'Nevada'")

    def test_a_decrease_is_a_warning(self):
        path = self.write("dec.csv", self.HEADER + "2020-03-01,California,06,5,1\n2020-03-02,California,06,4,1\n")
        # With [datasets] national = false the run loads the states alone.
        conf = self.write("states-only.toml", "[datasets]\nnational = false\nworld = false\n")
        p = cli("run", "--json", "--config", conf, "--db", self.db, "--states", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        s = json.loads(p.stdout)
        self.assertEqual([src["name"] for src in s["sources"]], ["states"])
        self.assertEqual(s["inserted"], 2)
        self.assertEqual(self.sql("SELECT count(*) FROM observations WHERE location = 'US'"), [(0,)])
        self.assertTrue(any("cases of California went down" in w["message"] and w["line"] == 3
                            for w in s["warning_samples"]), s["warning_samples"])


if __name__ == "__main__":
    unittest.main()
