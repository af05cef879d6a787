"""A source that loses rows must never wipe stored values (issue 15, item 1).

The real NYT and JHU files are loaded, then a run is given a source that lost rows the way real
downloads lose them: the JHU national US rows deleted or spelled otherwise, a body cut at a line
boundary, a few days dropped, a states file cut short. Each time the stored values must stay:
either the run is refused as invalid (exit 2, nothing written) or the values the source stopped
giving are kept and counted as `missing`, with a warning naming the dataset and the dates.
test_postgres.py and test_dynamodb.py run the same class on their stores.
"""
import csv
import os

from etl import JHU, NYT, SHARED, TempDirTest, cli, export, history, read_csv, run_json
from httpfixture import HttpFixture, Reply

STATES = os.path.join(SHARED, "nyt", "us-states.csv")


def lines(path):
    with open(path, newline="") as f:
        return f.read().splitlines(keepends=True)


def us_national(line):
    return line.split(",")[1:3] == ["US", ""]


class NothingLost(TempDirTest):
    def setUp(self):
        super().setUp()
        code, s, err = run_json(self.db)
        self.assertEqual((code, s["status"]), (0, "ok"), err)
        self.before = export(self.db)

    def jhu(self, keep=None, edit=None):
        """A copy of the JHU file with only the lines `keep(i, line)` accepts, edited by `edit`."""
        out = []
        for i, line in enumerate(lines(JHU)):
            if i > 0 and keep is not None and not keep(i, line):
                continue
            out.append(edit(line) if edit and i > 0 else line)
        return self.write("jhu.csv", "".join(out))

    def assert_refused(self, code, s, err, *needles):
        self.assertEqual(code, 2, err)
        self.assertEqual((s["status"], s["stage"]), ("failed", "validate"))
        text = " ".join(e["message"] for e in s["errors"])
        for n in needles:
            self.assertIn(n, text)
        self.assertEqual(export(self.db), self.before, "a refused run changed stored data")
        self.assertEqual(history(self.db)[0]["status"], "failed")

    def stored_recovered(self):
        """date -> recovered as exported (None where unknown)."""
        return {r["date"]: (r["recovered"] or None) for r in csv.DictReader(self.before.splitlines())}

    def test_jhu_without_its_us_national_rows_is_refused(self):
        first = next(i for i, line in enumerate(lines(JHU)) if us_national(line))
        variants = {
            "deleted": self.jhu(keep=lambda i, line: not us_national(line)),
            "lower case": self.jhu(edit=lambda line: line.replace(",US,,", ",us,,")),
            "trailing space": self.jhu(edit=lambda line: line.replace(",US,,", ",US ,,")),
            # sorted by country: a body cut at the line before the first US row
            "cut before": self.jhu(keep=lambda i, line: i < first),
        }
        for name, path in variants.items():
            with self.subTest(name):
                code, s, err = run_json(self.db, NYT, path)
                self.assert_refused(code, s, err, "expected the US national rows")
                e = s["errors"][0]
                self.assertEqual((e["file"], e["line"], e["column"]), (path, 1, 6))

    def test_a_body_cut_inside_the_us_rows_is_refused_as_a_shrink(self):
        first = next(i for i, line in enumerate(lines(JHU)) if us_national(line))
        cut = self.jhu(keep=lambda i, line: i < first + 100)  # 100 of the 420 US dates
        code, s, err = run_json(self.db, NYT, cut)
        self.assert_refused(code, s, err, "jhu: the source shrank: 100 rows where the last successful run",
                            "read 420", "--accept-shrink")

        # Told the shrink is real, the run loads and keeps every stored recovered value.
        code, s, err = run_json(self.db, NYT, cut, "--accept-shrink")
        self.assertEqual(code, 0, err)
        self.assertEqual(export(self.db), self.before)
        kept_dates = sorted(d for d, v in self.stored_recovered().items() if v is not None)
        lost = [d for d in kept_dates if d > "2020-04-30"]  # JHU's US rows start 2020-01-22
        self.assertEqual(s["missing"], len(lost))
        self.assertEqual(s["levels"]["nation"]["missing"], len(lost))
        self.assertEqual((s["inserted"], s["updated"], s["status"]), (0, 0, "unchanged"))
        warnings = [w["message"] for w in s["warning_samples"]]
        self.assertIn(f"the sources no longer give recovered for {len(lost)} dates whose value the database "
                      f"holds ({lost[0]} .. {lost[-1]}); the stored values are kept", warnings)
        self.assertTrue(any(w.startswith("jhu: the source shrank") and "accept_shrink" in w for w in warnings))
        # The next run compares with this one: the same cut file is no shrink any more.
        code, s, err = run_json(self.db, NYT, cut)
        self.assertEqual(code, 0, err)

    def test_a_body_cut_at_a_line_boundary_over_http_is_refused(self):
        server = HttpFixture().start()
        self.addCleanup(server.stop)
        with open(JHU, "rb") as f:
            body = f.read()
        start = body.index(b"\n2020-01-22,US,,") + 1
        cut = body[:start]
        for _ in range(200):  # 200 of the 420 US lines, then the connection closes
            cut = body[:body.index(b"\n", len(cut)) + 1]
        server.plan("/jhu.csv", Reply(200, body), Reply(200, cut, content_length=False))
        code, s, err = run_json(self.db, NYT, server.url("/jhu.csv"))
        self.assertEqual((code, s["status"]), (0, "unchanged"), err)
        code, s, err = run_json(self.db, NYT, server.url("/jhu.csv"))
        self.assert_refused(code, s, err, "jhu: the source shrank: 200 rows where the last successful run")

    def test_a_few_lost_days_keep_their_values(self):
        gone = {"2020-06-01", "2020-06-02", "2020-06-03", "2020-07-10", "2020-07-11"}
        path = self.jhu(keep=lambda i, line: not (us_national(line) and line[:10] in gone))
        code, s, err = run_json(self.db, NYT, path)
        self.assertEqual(code, 0, err)
        self.assertEqual(export(self.db), self.before)  # was: those 5 recovered values wiped
        self.assertEqual((s["status"], s["missing"], s["updated"]), ("unchanged", 5, 0))
        warning = s["warning_samples"][0]
        self.assertEqual(warning["file"], "national")
        self.assertEqual(warning["message"],
                         "the sources no longer give recovered for 5 dates whose value the database holds "
                         "(2020-06-01 .. 2020-06-03, 2020-07-10 .. 2020-07-11); the stored values are kept")

    def test_the_zero_rule_still_makes_a_value_unknown(self):
        # A value the source gives as unknown (JHU's 0 after positive values) is not a lost value.
        path = self.jhu(edit=lambda line: line.replace("2020-06-01,US,,1816153,458231,108606",
                                                       "2020-06-01,US,,1816153,0,108606"))
        self.assertNotEqual(lines(path), lines(JHU), "the test's JHU line is not in the file")
        code, s, err = run_json(self.db, NYT, path)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["updated"], s["missing"]), (1, 0))
        row = next(r for r in csv.DictReader(export(self.db, "--from", "2020-06-01", "--to", "2020-06-01").splitlines()))
        self.assertEqual(row["recovered"], "")

    def test_a_national_file_cut_short_is_refused(self):
        rows = lines(NYT)
        cut = self.write("us.csv", "".join(rows[:int(len(rows) * 0.8)]))
        code, s, err = run_json(self.db, cut, JHU)
        self.assert_refused(code, s, err, "nyt: the source shrank")
        # Within the share (here 5% fewer dates), the dates are kept and reported missing.
        short = self.write("us.csv", "".join(rows[:int(len(rows) * 0.95)]))
        code, s, err = run_json(self.db, short, JHU)
        self.assertEqual(code, 0, err)
        n = len(rows) - int(len(rows) * 0.95)
        self.assertEqual(s["missing"], n)
        self.assertTrue(s["warning_samples"][0]["message"].startswith(f"{n} rows the database holds are no longer"))
        self.assertEqual(export(self.db), self.before)

    def test_a_states_file_cut_short_is_refused_and_the_share_is_configurable(self):
        code, s, err = run_json(self.db, NYT, JHU, "--states", STATES)
        self.assertEqual(code, 0, err)
        california = export(self.db, "--location", "06")
        rows = lines(STATES)
        cut = self.write("states.csv", "".join(rows[:int(len(rows) * 0.85)]))  # ends on a line boundary
        code, s, err = run_json(self.db, NYT, JHU, "--states", cut)
        self.assertEqual(code, 2, err)
        self.assertIn("states: the source shrank", s["errors"][0]["message"])
        self.assertEqual(export(self.db, "--location", "06"), california)
        # A share of 20% lets 15% through; the rows lost are kept and reported.
        config = self.write("c.toml", "[transform]\nmax_shrink = 0.2\n")
        code, s, err = run_json(self.db, NYT, JHU, "--states", cut, "--config", config)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["state"]["missing"], len(rows) - int(len(rows) * 0.85))
        self.assertEqual(export(self.db, "--location", "06"), california)
        self.assertTrue(any(w["file"] == "states" and "no longer in the source" in w["message"]
                            for w in s["warning_samples"]))
        # And accept_shrink in the file does what --accept-shrink does.
        cut = self.write("states.csv", "".join(rows[:int(len(rows) * 0.5)]))
        config = self.write("c.toml", "[transform]\naccept_shrink = true\n")
        code, s, err = run_json(self.db, NYT, JHU, "--states", cut, "--config", config)
        self.assertEqual(code, 0, err)
        self.assertEqual(export(self.db, "--location", "06"), california)

    def test_a_county_file_cut_short_is_refused(self):
        header = "date,county,state,fips,cases,deaths\n"
        def counties(days, skip=()):
            return self.write("counties.csv", header + "".join(
                f"2020-03-{d:02d},{name},{state},{fips},{d * k},0\n"
                for d in range(1, days + 1) if d not in skip
                for k, (name, state, fips) in enumerate([("Autauga", "Alabama", "01001"),
                                                         ("Los Angeles", "California", "06037"),
                                                         ("Unknown", "Texas", "")], 1)))
        code, s, err = run_json(self.db, NYT, JHU, "--counties", counties(30))
        self.assertEqual(code, 0, err)
        la = export(self.db, "--location", "06037")
        code, s, err = run_json(self.db, NYT, JHU, "--counties", counties(20))  # cut at a line boundary
        self.assertEqual(code, 2, err)
        self.assertIn("counties: the source shrank: 60 rows where the last successful run", s["errors"][0]["message"])
        self.assertEqual(export(self.db, "--location", "06037"), la)
        # Two dates fewer (7%): loaded, the stored rows kept and said.
        code, s, err = run_json(self.db, NYT, JHU, "--counties", counties(30, skip=(4, 5)))
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["missing"], 6)
        self.assertIn({"file": "counties", "line": None, "column": None,
                       "message": "6 rows the database holds are no longer in the source (2020-03-04 .. 2020-03-05); "
                                  "kept as stored"}, s["warning_samples"])
        self.assertEqual(export(self.db, "--location", "06037"), la)

    def test_a_bad_share_is_a_usage_error(self):
        for value in ("1.5", "-0.1", '"10%"'):
            config = self.write("c.toml", f"[transform]\nmax_shrink = {value}\n")
            p = cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--config", config)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn("c.toml:2:14: 'transform.max_shrink' must be a share between 0 and 1", p.stderr)


class Renames(TempDirTest):
    """A location's name or state that changes from one run to the next is said, by id."""

    HEADER = "date,county,state,fips,cases,deaths\n"

    def test_a_renamed_county_is_a_warning_that_names_it(self):
        counties = self.write("c1.csv", self.HEADER + "2020-03-01,Los Angeles,California,06037,1,0\n"
                                                      "2020-03-01,Cook,Illinois,17031,2,0\n")
        code, s, err = run_json(self.db, NYT, JHU, "--counties", counties)
        self.assertEqual(code, 0, err)
        renamed = self.write("c2.csv", self.HEADER + "2020-03-01,LA,California,06037,1,0\n"
                                                     "2020-03-01,Cook,Illinois,17031,2,0\n"
                                                     "2020-03-02,LA,California,06037,3,0\n")
        code, s, err = run_json(self.db, NYT, JHU, "--counties", renamed)
        self.assertEqual(code, 0, err)
        self.assertIn({"file": "counties", "line": None, "column": None,
                       "message": "location 06037 is 'LA' (California) in the source but 'Los Angeles' "
                                  "(California) in the database: renamed upstream? Its series is kept; the new "
                                  "name is saved"}, s["warning_samples"])
        self.assertFalse(any("17031" in w["message"] for w in s["warning_samples"]))
        self.assertEqual(export(self.db, "--location", "06037"),
                         "date,cases,deaths,recovered\n2020-03-01,1,0,\n2020-03-02,3,0,\n")
