"""The world dataset: the WHO's global series (level country), end to end on the real copies.

Expected figures come from an independent computation over the files with Python's csv module
(never from the product's code): rows added and revised between the two 2021 daily copies, the
countries, the cumulatives of a few of them.
"""
import csv
import json
import os

from etl import SHARED, TempDirTest, cli, export

WHO = os.path.join(SHARED, "who")
DAILY_1 = os.path.join(WHO, "WHO-COVID-19-global-data-2021-02-09.csv")
DAILY_2 = os.path.join(WHO, "WHO-COVID-19-global-data-2021-02-16.csv")
WEEKLY = os.path.join(WHO, "WHO-COVID-19-global-data-2026-04-26.csv")
HEADER = ("Date_reported,Country_code,Country,WHO_region,New_cases,Cumulative_cases,New_deaths,"
          "Cumulative_deaths\n")


def who_rows(path):
    """(code, date) -> row, read as plain strings (NA stays Namibia), the BOM taken off."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {(r["Country_code"], r["Date_reported"]): r for r in csv.DictReader(f)}


def cumulatives(row):
    return (int(row["Cumulative_cases"]), int(row["Cumulative_deaths"]))


class WorldTest(TempDirTest):
    def setUp(self):
        super().setUp()
        # The world alone: no national or state series in these runs.
        self.config = self.write("only-world.toml", "[datasets]\nnational = false\nstates = false\n")

    def run_world(self, source, *extra, db=None):
        p = cli("run", "--json", "--config", self.config, "--db", db or self.db, "--who", source,
                *extra)
        summary = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, summary, p.stderr

    def count(self, query, params=()):
        return self.sql(query, params)[0][0]


class WorldReplay(WorldTest):
    def test_daily_copies_then_the_weekly_one(self):
        old, new = who_rows(DAILY_1), who_rows(DAILY_2)
        added = [k for k in new if k not in old]
        differ = [k for k in old if k in new and old[k] != new[k]]
        revised = [k for k in differ if cumulatives(old[k]) != cumulatives(new[k])]
        # The figures, found again here: 2,628 rows differ in some field; 1,771 are new.
        self.assertEqual(len(differ), 2628)
        self.assertEqual(len(added), 1771)
        self.assertFalse([k for k in old if k not in new])  # no row disappears

        code, s, err = self.run_world(DAILY_1)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["country"]["inserted"], len(old))
        code, s, err = self.run_world(DAILY_2)
        self.assertEqual(code, 0, err)
        level = s["levels"]["country"]
        # What is stored is the cumulatives: a row revised is one whose cumulatives changed. The
        # other rows of the 2,628 differ in New_* only (the previous day's cumulative changed).
        self.assertEqual(level["updated"], len(revised))
        self.assertEqual(len(differ) - len(revised), 56)
        self.assertEqual(level["inserted"], len(added))
        self.assertEqual(level["unchanged"], len(new) - len(added) - len(revised))
        self.assertEqual(self.count("SELECT count(*) FROM revisions WHERE run_id = ?", (s["run_id"],)),
                         len(revised))
        # The revisions hold exactly the rows the independent computation found, old and new.
        stored = {(loc, d): (oc, od, nc, nd) for loc, d, oc, od, nc, nd in self.sql(
            "SELECT location, date, old_cases, old_deaths, new_cases, new_deaths FROM revisions "
            "WHERE run_id = ?", (s["run_id"],))}
        swe = stored[("SWE", "2020-01-31")]
        self.assertEqual(swe[2:], cumulatives(new[("SE", "2020-01-31")]))
        self.assertEqual(swe[:2], cumulatives(old[("SE", "2020-01-31")]))
        # Negative new counts are warnings, loaded as given (73 + 32 in the 2021-02-16 copy).
        negative = sum(1 for r in new.values() for c in ("New_cases", "New_deaths")
                       if int(r[c]) < 0)
        self.assertEqual(negative, 105)
        self.assertEqual(s["warnings"] if "warnings" in s else s["counts"]["warnings"], negative)

        # The quirks, as stored: Namibia under NAM, names from ISO, non-ISO codes, conveyances.
        names = dict(self.sql("SELECT id, name FROM locations WHERE type = 'country'"))
        self.assertEqual(len(names), len({c for c, _ in new}))
        self.assertEqual(names["NAM"], "Namibia")
        self.assertEqual(names["CIV"], "Côte d'Ivoire")  # ISO's, not the file's U+2019
        self.assertEqual(names["TUR"], "Türkiye")  # the file says Turkey
        self.assertEqual(names["XKS"], "Kosovo")
        self.assertEqual(names["XXO"], "International conveyances")
        for code in ("XBO", "XSE", "XSA"):
            self.assertIn(code, names)
        self.assertEqual(names["USA"], "United States")
        self.assertIn("US", dict(self.sql("SELECT id, type FROM locations")))  # NYT's, apart
        nam = export(self.db, "--location", "NAM", "--to", "2021-02-16").splitlines()
        self.assertEqual(len(nam) - 1, sum(1 for c, _ in new if c == "NA"))
        self.assertEqual(nam[-1], "2021-02-16,%d,%d," % cumulatives(new[("NA", "2021-02-16")]))
        self.assertEqual(self.count("SELECT days FROM dataset_cadence WHERE dataset = 'world'"), 1)

        # The weekly copy: refused (another cadence), the database unchanged.
        before = self.sql("SELECT count(*), sum(cases), sum(deaths) FROM observations")
        # (79,200 weekly rows where 97,407 daily ones were: far fewer, but the cadence is what is
        # told, without --accept-shrink: its advice, --replace-dataset, is the way on.)
        code, s, err = self.run_world(WEEKLY)
        self.assertEqual(code, 2, err)
        self.assertIn("--replace-dataset world", s["message"])
        self.assertNotIn("shrank", json.dumps(s))
        self.assertIn("weekly", s["message"])
        self.assertEqual(self.sql("SELECT count(*), sum(cases), sum(deaths) FROM observations"),
                         before)
        self.assertEqual(self.count("SELECT days FROM dataset_cadence WHERE dataset = 'world'"), 1)

        # Accepted with --replace-dataset world: the daily rows are gone, the weekly ones in. (The
        # world being replaced, its shrinking is not checked: no --accept-shrink.)
        weekly = who_rows(WEEKLY)
        code, s, err = self.run_world(WEEKLY, "--replace-dataset", "world")
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["country"]["replaced"], len(new))
        self.assertEqual(s["levels"]["country"]["inserted"], len(weekly))
        self.assertEqual(self.count("SELECT count(*) FROM observations o JOIN locations l ON "
                                    "l.id = o.location WHERE l.type = 'country'"), len(weekly))
        self.assertEqual(self.count("SELECT days FROM dataset_cadence WHERE dataset = 'world'"), 7)
        names = dict(self.sql("SELECT id, name FROM locations WHERE type = 'country'"))
        self.assertEqual(len(names), len({c for c, _ in weekly}))
        self.assertEqual(names["BES"], "Bonaire, Sint Eustatius and Saba")
        self.assertNotIn("XBO", names)  # the 2021 series went with the replaced rows
        self.assertEqual(names["CIV"], "Côte d'Ivoire")  # the file has C\ufffdte d'Ivoire
        self.assertEqual(names["REU"], "Réunion")  # an empty WHO_region in 2026
        for code in ("XXF", "XXG", "XXH", "XXI", "XXJ", "XXL", "XKS", "NAM"):
            self.assertIn(code, names)
        fra = export(self.db, "--location", "FRA").splitlines()[1:]
        self.assertEqual(len(fra), sum(1 for c, _ in weekly if c == "FR"))
        self.assertEqual(fra[-1], "2026-04-26,%d,%d," % cumulatives(weekly[("FR", "2026-04-26")]))
        # An unchanged rerun changes nothing.
        code, s, err = self.run_world(WEEKLY)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")


class WorldUnchanged(WorldTest):
    """Issue 17, Speed: a file byte for byte what the last run loaded is not read again (its hash
    is the stored one): the run ends as a 304 does. A byte changed, a dry run, or another join is
    read and compared."""

    def test_same_bytes_are_not_read_and_a_byte_changed_is(self):
        with open(DAILY_2, encoding="utf-8", newline="") as f:
            path = self.write("who.csv", f.read())
        rows = who_rows(DAILY_2)
        code, s, err = self.run_world(path)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["country"]["inserted"], len(rows))
        loaded = s["sources"][0]
        before = self.sql("SELECT count(*), sum(cases), sum(deaths) FROM observations")

        code, s, err = self.run_world(path)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        src = s["sources"][0]
        self.assertEqual((src["not_modified"], src["rows"], src["content_hash"], src["load_key"]),
                         (True, 0, loaded["content_hash"], loaded["load_key"]))
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"], s["levels"]), (0, 0, 0, {}))
        self.assertEqual(self.sql("SELECT status FROM runs ORDER BY id DESC LIMIT 1"), [("unchanged",)])
        p = cli("run", "--config", self.config, "--db", self.db, "--who", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("not modified (the same content hash)", p.stdout)

        # A dry run reads and compares everything.
        code, s, err = self.run_world(path, "--dry-run")
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["levels"]["country"]["unchanged"]), ("unchanged", len(rows)))
        self.assertFalse(s["sources"][0]["not_modified"])

        # One byte of a name the reader does not store: read and compared, nothing written.
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        self.assertEqual(text.count("Namibia"), sum(1 for c, _ in rows if c == "NA"))
        i = text.index(",Namibia,")
        self.write("who.csv", text[:i] + ",namibia," + text[i + 9:])
        code, s, err = self.run_world(path)
        self.assertEqual(code, 0, err)
        self.assertFalse(s["sources"][0]["not_modified"])
        self.assertEqual((s["status"], s["levels"]["country"]["unchanged"]), ("unchanged", len(rows)))
        self.assertEqual(self.sql("SELECT count(*), sum(cases), sum(deaths) FROM observations"), before)

        # One figure (a country's last date: its cumulative and the day's new count): updated.
        last = max(d for c, d in rows if c == "NA")
        row = rows[("NA", last)]
        old = f"{last},NA,Namibia,{row['WHO_region']},{row['New_cases']},{row['Cumulative_cases']},"
        new = (f"{last},NA,Namibia,{row['WHO_region']},{int(row['New_cases'] or 0) + 1},"
               f"{int(row['Cumulative_cases']) + 1},")
        self.assertEqual(text.count(old), 1)
        self.write("who.csv", text.replace(old, new))
        code, s, err = self.run_world(path)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["updated"], s["inserted"]), ("ok", 1, 0))
        self.assertEqual(self.sql("SELECT cases FROM observations WHERE location = 'NAM' AND date = ?",
                                  (last,)), [(int(row["Cumulative_cases"]) + 1,)])
        code, s, err = self.run_world(path)
        self.assertEqual((code, s["status"], s["sources"][0]["not_modified"]), (0, "unchanged", True))


class WorldQuirks(WorldTest):
    def file(self, name, rows, bom=False):
        return self.write(name, ("\ufeff" if bom else "") + HEADER + "".join(r + "\n" for r in rows))

    GOOD = [
        '2021-01-01,NA,Namibia,AFRO,0,0,0,0',
        '2021-01-01,PS,"occupied Palestinian territory, including east Jerusalem",EMRO,0,5,0,0',
        '2021-01-02,PS,"occupied Palestinian territory, including east Jerusalem",EMRO,2,7,0,0',
        '2021-01-02,NA,Namibia,,3,3,1,1',
        '2021-01-03,NA,Namibia,AFRO,-1,2,,1',
        '2021-01-03,PS,"occupied Palestinian territory, including east Jerusalem",EMRO,,7,0,0',
    ]

    def assert_refused(self, path, where, words):
        """Exit 2 with the error at path:where (LINE:COLUMN), and the database as it was (the
        good file loaded first)."""
        code, _, err = self.run_world(self.file("first.csv", self.GOOD))
        self.assertEqual(code, 0, err)
        before = self.sql("SELECT location, date, cases, deaths FROM observations ORDER BY 1, 2")
        code, s, err = self.run_world(path)
        self.assertEqual(code, 2, err)
        line, column = (int(x) for x in where.split(":"))
        found = [e for e in s["errors"] if (e["file"], e["line"], e["column"]) == (path, line, column)]
        self.assertTrue(found, s["errors"])
        self.assertIn(words, found[0]["message"])
        self.assertEqual(self.sql("SELECT location, date, cases, deaths FROM observations "
                                  "ORDER BY 1, 2"), before)

    def test_good_file_with_bom_quotes_empty_region_and_a_negative_count(self):
        code, s, err = self.run_world(self.file("good.csv", self.GOOD, bom=True))
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["country"]["inserted"], 6)
        self.assertEqual(s["counts"]["warnings"] if "counts" in s else s["warnings"], 1)
        self.assertIn("went down from 3 on 2021-01-02 to 2 on 2021-01-03", json.dumps(s))
        self.assertEqual(export(self.db, "--location", "NAM").splitlines()[1:],
                         ["2021-01-01,0,0,", "2021-01-02,3,1,", "2021-01-03,2,1,"])
        self.assertEqual(dict(self.sql("SELECT id, name FROM locations WHERE type = 'country'")),
                         {"NAM": "Namibia", "PSE": "Palestine, State of"})

    def test_empty_new_count_where_the_cumulative_changed(self):
        bad = '2021-01-03,PS,"occupied Palestinian territory, including east Jerusalem",EMRO,,9,0,0'
        col = bad.index(",,9") + 2  # New_cases: the empty field after WHO_region
        self.assert_refused(self.file("empty.csv", self.GOOD[:5] + [bad]), f"7:{col}",
                            "empty, but Cumulative_cases changed by +2")

    @staticmethod
    def column(row, field):
        """The 1-based byte column of field number `field` (0-based) of an unquoted row."""
        return sum(len(f) + 1 for f in row.split(",")[:field]) + 1

    def test_new_count_contradicting_the_cumulative(self):
        bad = '2021-01-02,NA,Namibia,AFRO,4,3,1,1'
        rows = self.GOOD[:3] + [bad] + self.GOOD[4:]
        self.assert_refused(self.file("contra.csv", rows), f"5:{self.column(bad, 4)}",
                            "contradicts Cumulative_cases")

    def test_bad_number(self):
        bad = '2021-01-02,NA,Namibia,AFRO,3,3x,1,1'
        rows = self.GOOD[:3] + [bad] + self.GOOD[4:]
        self.assert_refused(self.file("bad.csv", rows), f"5:{self.column(bad, 5)}",
                            "Cumulative_cases")

    def test_unknown_code(self):
        rows = self.GOOD + ['2021-01-01,QQ,Nowhere,AFRO,0,0,0,0']
        self.assert_refused(self.file("unknown.csv", rows), "8:12", "'QQ'")

    def test_duplicate_date_and_code(self):
        rows = self.GOOD + ['2021-01-02,NA,Namibia,AFRO,3,3,1,1']
        self.assert_refused(self.file("dup.csv", rows), "8:1", "appears twice")

    def test_mixed_cadence(self):
        rows = self.GOOD + ['2021-01-10,NA,Namibia,AFRO,0,2,0,1']
        self.assert_refused(self.file("mixed.csv", rows), "8:1", "all daily or all weekly")

    def test_a_replaced_dataset_is_not_checked_for_shrinking_the_others_are(self):
        states = os.path.join(SHARED, "nyt", "us-states.csv")
        with open(states, encoding="utf-8") as f:
            lines = f.readlines()
        big = self.write("states.csv", "".join(lines[:300]))
        small = self.write("states-small.csv", "".join(lines[:30]))
        config = self.write("world-states.toml", "[datasets]\nnational = false\n")
        weekly = self.file("weekly.csv", ['2021-01-01,NA,Namibia,AFRO,0,0,0,0',
                                          '2021-01-08,NA,Namibia,AFRO,3,3,1,1'])

        def run(states_file, who, *extra):
            p = cli("run", "--json", "--config", config, "--db", self.db, "--states", states_file,
                    "--who", who, *extra)
            return p.returncode, json.loads(p.stdout), p.stderr

        code, _, err = run(big, self.file("daily.csv", self.GOOD))
        self.assertEqual(code, 0, err)
        # States shrank (300 lines to 30): still an error, though the world is replaced.
        code, s, err = run(small, weekly, "--replace-dataset", "world")
        self.assertEqual(code, 2, err)
        self.assertEqual([e["file"] for e in s["errors"] if "shrank" in e["message"]], [small])
        # The world alone shrank (6 daily rows to 2 weekly ones): it is being replaced, so not
        # compared, and no --accept-shrink is needed.
        code, s, err = run(big, weekly, "--replace-dataset", "world")
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["country"]["replaced"], 6)
        self.assertNotIn("shrank", json.dumps(s))

    def test_another_cadence_is_told_before_shrinking(self):
        """A weekly file after daily ones (far fewer rows) is refused for its cadence, with the
        advice to --replace-dataset, not as a source that shrank; and a daily one after weekly
        ones (more rows) is refused the same way. Exit 2 and nothing changed each time."""
        daily = self.file("daily.csv", self.GOOD)
        weekly = self.file("weekly.csv", ['2021-01-01,NA,Namibia,AFRO,0,0,0,0',
                                          '2021-01-08,NA,Namibia,AFRO,3,3,1,1'])
        for first, second, words in ((daily, weekly, "are weekly (7 days between dates) but the "
                                      "database holds daily ones"),
                                     (weekly, daily, "are daily (1 day between dates) but the "
                                      "database holds weekly ones")):
            self.db = self.path(os.path.basename(first) + ".db")
            code, _, err = self.run_world(first)
            self.assertEqual(code, 0, err)
            before = self.sql("SELECT location, date, cases, deaths FROM observations")
            code, s, err = self.run_world(second)
            self.assertEqual(code, 2, err)
            self.assertIn("world: the source's series " + words, s["message"])
            self.assertIn("run again with --replace-dataset world", s["message"])
            self.assertNotIn("shrank", json.dumps(s))
            self.assertNotIn("--accept-shrink", err)
            self.assertIn("--replace-dataset world", err)  # the text summary says it too
            self.assertEqual(self.sql("SELECT location, date, cases, deaths FROM observations"),
                             before)

    def test_the_nyts_and_the_whos_united_states_say_their_source(self):
        """The NYT's national US and the WHO's USA, both "United States": the API labels the
        WHO's "United States (WHO)", export --location "United States" names both with their
        source, and each label names its own."""
        nyt = self.write("us.csv", "date,cases,deaths\n2021-01-01,5,1\n2021-01-02,7,1\n")
        jhu = self.write("jhu.csv", "Date,Country/Region,Province/State,Confirmed,Recovered,"
                                    "Deaths\n2021-01-01,US,,5,0,1\n")
        who = self.file("who.csv", ['2021-01-01,US,United States of America,AMRO,5,5,1,1',
                                    '2021-01-02,US,United States of America,AMRO,2,7,0,1',
                                    '2021-01-01,FR,France,EURO,1,1,0,0'])
        config = self.write("both.toml", "[datasets]\nstates = false\npopulations = false\n"
                                         "annotations = false\n")
        p = cli("run", "--config", config, "--db", self.db, "--nyt", nyt, "--jhu", jhu,
                "--who", who)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = cli("export", "--db", self.db, "--location", "United States")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("'United States' names several locations: United States (US, The New York "
                      "Times, Johns Hopkins University); United States (USA, World Health "
                      "Organization)", p.stderr)
        self.assertEqual(export(self.db, "--location", "United States (WHO)").splitlines()[-1],
                         "2021-01-02,7,1,")
        from test_serve import Server
        server = Server(self.db)
        self.addCleanup(server.kill)
        found = server.get_json("/api/v1/locations?q=United%20States")["locations"]
        self.assertEqual(sorted((l["id"], l["label"], l["source"]) for l in found),
                         [("US", "United States", "The New York Times, Johns Hopkins University"),
                          ("USA", "United States (WHO)", "World Health Organization")])
        france = server.get_json("/api/v1/locations?q=France")["locations"]
        self.assertEqual([l["label"] for l in france], ["France"])  # no other France
        page = server.request("/?loc=USA")[2].decode()
        self.assertIn("United States (WHO)", page)

    def test_turkey_and_turkiye_are_one_series(self):
        a = self.file("a.csv", ['2021-01-01,TR,Turkey,EURO,1,1,0,0'])
        b = self.file("b.csv", ['2021-01-01,TR,Turkey,EURO,1,1,0,0',
                                '2021-01-02,TR,T\ufffdrkiye,EURO,1,2,0,0'])
        for path in (a, b):
            code, s, err = self.run_world(path)
            self.assertEqual(code, 0, err)
        self.assertEqual(self.sql("SELECT id, name FROM locations WHERE type = 'country'"),
                         [("TUR", "Türkiye")])
        self.assertEqual(self.count("SELECT count(*) FROM observations WHERE location = 'TUR'"), 2)


# Countries whose exports are compared across stores: Namibia (NA), a renamed one, the WHO's own
# codes, a large series and the conveyances.
COMPARED = ("NAM", "TUR", "XKS", "XXO", "USA", "FRA", "CIV", "BES")


class SameWorld:
    """Mixed into a WorldTest on another store: the 2021 daily copies replayed in order, then the
    2026 weekly one (refused, then --replace-dataset world), give there the same summaries,
    exports and refusals as on SQLite."""

    KEYS = ("status", "inserted", "updated", "unchanged", "missing", "first_date", "last_date")

    def both(self, source, *extra):
        a = self.run_world(source, *extra, db=self.sqlite_db)
        b = self.run_world(source, *extra)
        self.assertEqual(a[0], b[0], (a[2], b[2]))
        return a, b

    def assert_same_exports(self):
        """The same exports (or the same refusal, for a country not loaded) from both stores."""
        for loc in COMPARED:
            for fmt in ("csv", "json"):
                a, b = (cli("export", "--db", db, "--location", loc, "--format", fmt)
                        for db in (self.sqlite_db, self.db))
                self.assertEqual((a.returncode, a.stdout), (b.returncode, b.stdout), loc)

    def test_cadence_stored(self):
        code, _, err = self.run_world(self.write("w.csv", HEADER + "2021-01-01,NA,Namibia,AFRO,1,1,0,0\n"
                                                 "2021-01-08,NA,Namibia,AFRO,1,2,0,0\n"))
        self.assertEqual(code, 0, err)
        self.assertEqual(self.stored_cadence(), 7)

    def sources(self):
        """The two 2021 daily copies and the 2026 weekly one, as this store loads them."""
        return DAILY_1, DAILY_2, WEEKLY

    def test_same_as_sqlite(self):
        self.sqlite_db = self.path("same.db")
        daily_1, daily_2, weekly = self.sources()
        old, new = who_rows(daily_1), who_rows(daily_2)
        revised = [k for k in old if k in new and cumulatives(old[k]) != cumulatives(new[k])]
        for source in (daily_1, daily_2):
            (code, a, err), (_, b, _) = self.both(source)
            self.assertEqual(code, 0, err)
            for k in self.KEYS:
                self.assertEqual(a[k], b[k], k)
            self.assertEqual(a["levels"]["country"], b["levels"]["country"])
        self.assertEqual(b["levels"]["country"]["updated"], len(revised))
        self.assert_same_exports()

        (code, a, _), (_, b, _) = self.both(weekly)  # the cadence told, not the shrinking
        self.assertEqual(code, 2)
        self.assertIn("--replace-dataset world", b["message"])
        self.assertNotIn("shrank", json.dumps(b))
        self.assert_same_exports()  # unchanged on both

        # (No --accept-shrink: a dataset being replaced is not compared for shrinking.)
        (code, a, err), (_, b, _) = self.both(weekly, "--replace-dataset", "world")
        self.assertEqual(code, 0, err)
        self.assertEqual(a["levels"]["country"], b["levels"]["country"])
        self.assertEqual(b["levels"]["country"]["replaced"], len(new))
        self.assertEqual(b["levels"]["country"]["inserted"], len(who_rows(weekly)))
        self.assert_same_exports()
        (code, a, err), (_, b, _) = self.both(weekly)
        self.assertEqual((code, a["status"], b["status"]), (0, "unchanged", "unchanged"), err)


def _on_postgres():
    from test_postgres import OnPostgres
    return OnPostgres


def _on_dynamo():
    from test_dynamodb import OnDynamo
    return OnDynamo


class WorldOnPostgres(SameWorld, _on_postgres(), WorldTest):
    def stored_cadence(self):
        return self.count("SELECT days FROM dataset_cadence WHERE dataset = 'world'")


class WorldOnDynamo(SameWorld, _on_dynamo(), WorldTest):
    def sources(self):
        # The compared countries' rows of each copy (dynalite takes minutes for the whole files).
        codes = {"NA", "TR", "XK", " ", "US", "FR", "CI", "XA", "XB", "XC", "BQ"}
        return tuple(self.rows_of(path, codes) for path in super().sources())

    def rows_of(self, path, codes):
        """A copy of the file at `path` with its header and the rows of `codes` only, as written."""
        with open(path, newline="", encoding="utf-8") as f:
            lines = f.readlines()
        kept = [lines[0]] + [l for l in lines[1:] if next(csv.reader([l]))[1] in codes]
        return self.write(os.path.basename(path), "".join(kept))

    def stored_cadence(self):
        return {i["sk"]: i["days"] for i in self.meta("cadence")}["world"]
