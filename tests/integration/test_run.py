"""The core ETL run end to end: the real binary on ../shared/data with a real SQLite file.

Expected values come from the issue (exact figures) and from `reference()`, an independent
re-implementation of the rules in a few lines of Python (JHU US rows, the zero rule, the join).
"""
import json
import os
import sqlite3
import subprocess
import time

from httpfixture import HttpFixture, Reply
from etl import (BIN, JHU, NYT, REPO, SNAPSHOTS, TempDirTest, cli, export, history, read_csv,
                 run_json)

HEADER = "date,cases,deaths,recovered\n"


def reference(nyt_path, jhu_path, join="left"):
    """date -> (cases, deaths, recovered or None), by the rules of the issue."""
    us = sorted((r["Date"], int(r["Recovered"])) for r in read_csv(jhu_path)
                if r["Country/Region"] == "US" and r["Province/State"] == "")
    recovered, positive = {}, False
    for date, value in us:
        positive = positive or value > 0
        recovered[date] = None if positive and value == 0 else value
    series = {}
    for r in sorted(read_csv(nyt_path), key=lambda r: r["date"]):
        if join == "inner" and r["date"] not in recovered:
            continue
        series[r["date"]] = (int(r["cases"]), int(r["deaths"]), recovered.get(r["date"]))
    return series


def as_export(series):
    cell = lambda v: "" if v is None else str(v)
    return HEADER + "".join(f"{d},{c},{de},{cell(r)}\n" for d, (c, de, r) in sorted(series.items()))


def changes(old, new):
    """(inserted, updated, unchanged, missing) from one stored series to a new source series."""
    inserted = sum(1 for d in new if d not in old)
    updated = sum(1 for d in new if d in old and old[d] != new[d])
    unchanged = sum(1 for d in new if d in old and old[d] == new[d])
    missing = sum(1 for d in old if d not in new)
    return inserted, updated, unchanged, missing


def write_nyt(path, rows):
    with open(path, "w", newline="") as f:
        f.write("date,cases,deaths\n")
        f.writelines(f"{r['date']},{r['cases']},{r['deaths']}\n" for r in rows)
    return path


def without_times(v, keys):
    """`v` without the keys `keys` at any depth (times of day that differ between two runs)."""
    if isinstance(v, dict):
        return {k: without_times(x, keys) for k, x in v.items() if k not in keys}
    return [without_times(x, keys) for x in v] if isinstance(v, list) else v


class SameAnswersAsSqlite:
    """For the suites of other stores (PostgreSQL, DynamoDB): a TempDirTest whose self.db is that
    store's URL mixes this in."""

    def assert_same_answers_as_sqlite(self):
        """Replays five runs (a part, the whole, the same again, a revision, a bad file) on this
        test's store and on a SQLite file; summaries, exports and histories must agree. Returns
        the SQLite path."""
        sqlite_db = self.path("same.db")
        rows = read_csv(NYT)
        revised = [dict(r) for r in rows]
        for r in revised[300:305]:
            r["deaths"] = str(int(r["deaths"]) + 11)
        steps = [(write_nyt(self.path("part.csv"), rows[:500]), JHU),
                 (NYT, JHU), (NYT, JHU),
                 (write_nyt(self.path("revised.csv"), revised), JHU),
                 (self.write("bad.csv", "date,cases,deaths\n2020-01-21,1,x\n"), JHU)]
        for nyt, jhu in steps:
            a = run_json(sqlite_db, nyt, jhu)
            b = run_json(self.db, nyt, jhu)
            self.assertEqual(a[0], b[0], (a[2], b[2]))
            self.assertEqual(without_times(a[1], ("run_id", "duration_ms", "changed_at")),
                             without_times(b[1], ("run_id", "duration_ms", "changed_at")))
        for args in ([], ["--format", "json"], ["--from", "2021-01-01", "--to", "2021-02-01"], ["--to", "2020-02-01"]):
            self.assertEqual(export(sqlite_db, *args), export(self.db, *args), args)
        self.assertEqual(export(self.db), as_export({**reference(NYT, JHU), **reference(self.path("revised.csv"), JHU)}))

        def comparable(runs):
            return [{k: v for k, v in r.items() if k not in ("started_at", "finished_at", "duration_ms")}
                    for r in runs]
        self.assertEqual(comparable(history(sqlite_db)), comparable(history(self.db)))
        self.assertEqual([r["status"] for r in history(self.db)], ["failed", "ok", "unchanged", "ok", "ok"])
        for name in ("started_at", "finished_at"):
            self.assertRegex(history(self.db)[0][name], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(len(cli("history", "--db", sqlite_db).stdout.splitlines()),
                         len(cli("history", "--db", self.db).stdout.splitlines()))
        return sqlite_db


class ExactValues(TempDirTest):
    def setUp(self):
        super().setUp()
        self.code, self.summary, self.stderr = run_json(self.db)

    def rows(self):
        return {r["date"]: r for r in read_csv_text(export(self.db))}

    def test_first_run_loads_820_rows_with_exact_values(self):
        self.assertEqual(self.code, 0, self.stderr)
        s = self.summary
        self.assertEqual((s["status"], s["inserted"], s["updated"], s["unchanged"], s["missing"]),
                         ("ok", 820, 0, 0, 0))
        self.assertEqual((s["first_date"], s["last_date"]), ("2020-01-21", "2022-04-19"))
        self.assertIsInstance(s["run_id"], int)
        self.assertEqual((s["errors"], s["error_count"]), ([], 0))
        rows = self.rows()
        self.assertEqual(len(rows), 820)
        self.assertEqual(min(rows), "2020-01-21")
        self.assertEqual(max(rows), "2022-04-19")
        self.assertEqual(rows["2020-12-13"]["recovered"], "6298082")
        self.assertEqual(rows["2020-12-14"]["recovered"], "")
        self.assertEqual((rows["2021-03-16"]["cases"], rows["2021-03-16"]["deaths"]), ("29569140", "536491"))
        self.assertEqual(rows["2021-06-04"]["cases"], "33312812")
        self.assertEqual(rows["2020-01-21"]["recovered"], "")  # NYT only: JHU starts a day later
        self.assertEqual(rows["2020-01-22"]["recovered"], "0")  # a real zero, before the first positive

    def test_the_2021_06_04_decrease_is_a_warning(self):
        self.assertGreater(self.summary["warnings"], 0)
        hits = [w for w in self.summary["warning_samples"] if "2021-06-04" in w["message"]]
        self.assertEqual(len(hits), 1, self.summary["warning_samples"])
        self.assertEqual((hits[0]["file"], hits[0]["line"], hits[0]["column"]), (NYT, 502, 12))
        # Two NYT decreases, and every JHU zero after the first positive value.
        us = [r for r in read_csv(JHU) if r["Country/Region"] == "US" and r["Province/State"] == ""]
        zeros = sum(1 for r in us if r["Date"] >= "2020-12-14" and r["Recovered"] == "0")
        self.assertEqual(zeros, 93)  # 2020-12-14 .. 2021-03-16
        self.assertEqual(self.summary["warnings"], zeros + 2)

    def test_export_equals_the_independent_reference(self):
        self.assertEqual(export(self.db), as_export(reference(NYT, JHU)))

    def test_identical_rerun_writes_nothing(self):
        before = export(self.db)
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        # The files are byte for byte what the last run loaded: not read (issue 17, Speed).
        self.assertEqual((s["status"], s["inserted"], s["updated"], s["unchanged"]), ("unchanged", 0, 0, 0))
        self.assertEqual([(x["not_modified"], x["rows"]) for x in s["sources"]], [(True, 0), (True, 0)])
        self.assertEqual(export(self.db), before)
        runs = history(self.db)
        self.assertEqual([r["status"] for r in runs], ["unchanged", "ok"])
        self.assertGreater(runs[0]["id"], runs[1]["id"])
        self.assertEqual(self.sql("SELECT count(*) FROM revisions"), [(0,)])
        self.assertEqual(self.sql("SELECT count(DISTINCT run_id) FROM observations"), [(1,)])

    def test_export_formats_and_ranges(self):
        p = cli("export", "--db", self.db, "--from", "2020-12-13", "--to", "2020-12-14", "--format", "json")
        self.assertEqual(p.returncode, 0, p.stderr)
        import json
        self.assertEqual(json.loads(p.stdout), [
            {"date": "2020-12-13", "cases": 16368898, "deaths": 299338, "recovered": 6298082},
            {"date": "2020-12-14", "cases": 16569783, "deaths": 301016, "recovered": None}])
        tail = export(self.db, "--from", "2022-04-18").splitlines()
        self.assertEqual(len(tail), 3)
        self.assertEqual(export(self.db, "--to", "2020-01-22").splitlines()[1:],
                         ["2020-01-21,1,0,", "2020-01-22,1,0,0"])
        for bad in (["--from", "2020-1-5"], ["--to", "yesterday"], ["--from", "2021-01-02", "--to", "2021-01-01"],
                    ["--format", "xml"]):
            with self.subTest(bad=bad):
                self.assertEqual(cli("export", "--db", self.db, *bad).returncode, 64)

    def test_missing_dates_are_reported_never_deleted(self):
        rows = read_csv(NYT)
        code, s, err = run_json(self.db, write_nyt(self.path("short.csv"), rows[:-5]))
        self.assertEqual(code, 0, err)
        self.assertEqual((s["missing"], s["inserted"], s["updated"], s["unchanged"]), (5, 0, 0, 815))
        self.assertEqual(len(export(self.db).splitlines()), 821)

    def test_failed_run_is_recorded_and_changes_nothing(self):
        before = export(self.db)
        bad = self.write("bad.csv", "date,cases,deaths\n2020-01-21,1,0\n2020-01-22,12x,0\n")
        code, s, _ = run_json(self.db, bad)
        self.assertEqual(code, 2)
        self.assertEqual((s["status"], s["stage"]), ("failed", "validate"))
        self.assertEqual(export(self.db), before)
        last = history(self.db)[0]
        self.assertEqual((last["status"], last["stage"], last["id"]), ("failed", "validate", s["run_id"]))
        self.assertIn(f"{bad}:3:12:", last["error"])
        p = cli("history", "--db", self.db)
        self.assertEqual(p.returncode, 0)
        self.assertIn("failed", p.stdout.splitlines()[1])


def read_csv_text(text):
    import csv
    import io
    return list(csv.DictReader(io.StringIO(text)))


class DryRunAndJoin(TempDirTest):
    def test_dry_run_on_a_new_database_writes_nothing(self):
        code, s, err = run_json(self.db, NYT, JHU, "--dry-run")
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["dry_run"], s["inserted"], s["run_id"]), ("ok", True, 820, None))
        self.assertFalse(self.store_exists())

    def test_dry_run_against_an_unreachable_server_fails(self):
        # Regression: any error opening the store used to read as "no database yet".
        code, s, _ = run_json("postgresql://nobody@127.0.0.1:1/covid", NYT, JHU, "--dry-run")
        self.assertEqual((code, s["status"], s["stage"]), (4, "failed", "load"))

    def test_dry_run_reports_revisions_without_writing(self):
        self.assertEqual(run_json(self.db)[0], 0)
        before, runs = export(self.db), history(self.db)
        rows = read_csv(NYT)
        for r in rows[100:103]:
            r["cases"] = str(int(r["cases"]) + 7)
        code, s, err = run_json(self.db, write_nyt(self.path("rev.csv"), rows), JHU, "--dry-run")
        self.assertEqual(code, 0, err)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"]), (0, 3, 817))
        self.assertEqual(export(self.db), before)
        self.assertEqual(history(self.db), runs)

    def test_inner_join_keeps_dates_in_both_sources(self):
        config = self.write("inner.toml", '[transform]\njoin = "inner"\n')
        code, s, err = run_json(self.db, NYT, JHU, "--config", config)
        self.assertEqual(code, 0, err)
        expected = reference(NYT, JHU, join="inner")
        self.assertEqual(s["inserted"], len(expected))
        self.assertEqual(export(self.db), as_export(expected))
        self.assertEqual((s["first_date"], s["last_date"]), (min(expected), max(expected)))


class SnapshotReplay(TempDirTest):
    """Replays the JHU snapshots of 2021-03-14..16 and the 2021-03-17 file in order, each with
    the NYT series as it stood that day (cut at the snapshot's last date).

    The JHU snapshots revise hundreds of past Confirmed and Deaths values but never Recovered;
    NYT is the authority for cases and deaths, so those revisions must not reach the database.
    A revised NYT row (the case that does happen upstream) is replayed as well.
    """

    def step(self, nyt_rows, jhu, stored):
        nyt = write_nyt(self.path(f"nyt-{len(nyt_rows)}-{time.monotonic_ns()}.csv"), nyt_rows)
        code, s, err = run_json(self.db, nyt, jhu)
        self.assertEqual(code, 0, err)
        new = reference(nyt, jhu)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"], s["missing"]),
                         changes(stored, new), jhu)
        self.assertEqual(export(self.db), as_export({**stored, **new}))
        return s, new

    def revisions(self, run_id):
        return self.sql("SELECT date, old_cases, new_cases, old_deaths, new_deaths, old_recovered, "
                        "new_recovered FROM revisions WHERE run_id = ? ORDER BY date", (run_id,))

    def test_replay_snapshots_then_a_revision(self):
        nyt_rows = read_csv(NYT)
        files = [os.path.join(SNAPSHOTS, f"2021-03-{d}.csv") for d in (14, 15, 16)] + [JHU]
        stored, inserted = {}, []
        for jhu in files:
            last_us = max(r["Date"] for r in read_csv(jhu) if r["Country/Region"] == "US")
            s, new = self.step([r for r in nyt_rows if r["date"] <= last_us], jhu, stored)
            self.assertEqual(self.revisions(s["run_id"]), [])
            stored = {**stored, **new}
            inserted.append(s["inserted"])
        self.assertEqual(inserted, [418, 1, 1, 1])  # 2020-01-21..2021-03-13, then one day each

        # NYT revises three past rows: exactly those are updated, old and new values kept.
        revised = [dict(r) for r in nyt_rows if r["date"] <= "2021-03-16"]
        for r in revised[400:403]:
            r["cases"], r["deaths"] = str(int(r["cases"]) + 1000), str(int(r["deaths"]) + 3)
        s, new = self.step(revised, JHU, stored)
        self.assertEqual((s["status"], s["updated"], s["inserted"]), ("ok", 3, 0))
        got = self.revisions(s["run_id"])
        self.assertEqual([g[0] for g in got], [r["date"] for r in revised[400:403]])
        for g, r in zip(got, revised[400:403]):
            self.assertEqual(g[1:5], (int(r["cases"]) - 1000, int(r["cases"]), int(r["deaths"]) - 3, int(r["deaths"])))
            self.assertEqual(g[5], g[6])  # recovered unchanged
        stored = {**stored, **new}

        # The full final series: the revision is revised back, and the later dates are added.
        s, _ = self.step(nyt_rows, JHU, stored)
        self.assertEqual((s["updated"], s["inserted"]), (3, 820 - 421))
        self.assertEqual(export(self.db), as_export(reference(NYT, JHU)))


class Configuration(TempDirTest):
    def test_flags_override_environment_override_file(self):
        a, b, c = self.path("a.db"), self.path("b.db"), self.path("c.db")
        config = self.write("c.toml", f'db = "{a}"\n[sources]\nnyt = "{NYT}"\njhu = "{JHU}"\n')
        self.assertEqual(cli("run", "--config", config).returncode, 0)
        self.assertEqual(cli("run", "--config", config, env={"COVID_ETL_DB": b}).returncode, 0)
        self.assertEqual(cli("run", "--config", config, "--db", f"sqlite:{c}", env={"COVID_ETL_DB": b}).returncode, 0)
        self.assertEqual([len(history(p)) for p in (a, b, c)], [1, 1, 1])

    def test_the_example_configuration_is_valid_and_holds_the_defaults(self):
        example = os.path.join(REPO, "config", "covid-etl.example.toml")
        code, s, err = run_json(self.db, NYT, JHU, "--config", example)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["inserted"], 820)

    def test_configuration_path_and_values_from_the_environment(self):
        db = self.path("from-env.db")
        config = self.write("env.toml", 'db = "${ETL_TEST_DIR}/from-env.db"\n[sources]\nnyt = "${ETL_TEST_NYT}"\n')
        env = {"COVID_ETL_CONFIG": config, "ETL_TEST_DIR": self.tmp, "ETL_TEST_NYT": NYT}
        p = cli("run", "--jhu", JHU, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(history(db)), 1)
        p = cli("run", "--jhu", JHU, env={"COVID_ETL_CONFIG": config, "ETL_TEST_DIR": self.tmp})
        self.assertEqual(p.returncode, 64)
        self.assertIn("names the environment variable ETL_TEST_NYT, which is not set", p.stderr)

    def test_source_urls_from_environment_and_flags(self):
        bad = self.write("bad.csv", "nothing,useful\n1,2\n")
        env = {"COVID_ETL_NYT_URL": bad, "COVID_ETL_JHU_URL": JHU}
        self.assertEqual(cli("run", "--db", self.db, env=env).returncode, 2)
        self.assertEqual(cli("run", "--db", self.db, "--nyt", NYT, env=env).returncode, 0)

    def test_bad_configuration_is_a_usage_error_with_its_place(self):
        cases = {
            'db = "x.db"\ncolour = "red"\n': ":2:1: unknown key 'colour'",
            '[extract]\nretries = "three"\n': ":2:11: 'extract.retries' must be an integer",
            '[extract]\nretries = 99\n': "between 0 and 20",
            '[transform]\njoin = "outer"\n': "'transform.join' must be",
            'db = \n': ":1:",
            '[+a]\n': ":1:2: Error while parsing key",  # toml++ aborted here (config fuzzer)
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                config = self.write("bad.toml", text)
                p = cli("run", "--config", config, "--db", self.db, "--nyt", NYT, "--jhu", JHU)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn(config, p.stderr)
                self.assertIn(message, p.stderr)
                self.assertFalse(os.path.exists(self.db))

    def test_usage_errors_exit_64_and_help_exits_0(self):
        for args in (["frobnicate"], [], ["run", "--nope"], ["run", "--config", self.path("absent.toml")],
                     ["export", "--db", "redis://h/0"], ["history", "--db", "mysql://h/db"]):
            with self.subTest(args=args):
                self.assertEqual(cli(*args).returncode, 64)
        for sub in ("run", "export", "history"):
            p = cli(sub, "--help")
            self.assertEqual(p.returncode, 0)
            self.assertIn("--db", p.stdout)

    def test_export_of_a_missing_database_is_a_clear_load_error(self):
        p = cli("export", "--db", self.path("none.db"))
        self.assertEqual(p.returncode, 4)
        self.assertIn("no database", p.stderr)


class Locking(TempDirTest):
    def test_a_second_run_waits_a_bounded_time_then_fails(self):
        self.assertEqual(run_json(self.db)[0], 0)
        before = export(self.db)
        config = self.write("lock.toml", "[load]\nlock_timeout_ms = 300\n")
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        code, s, err = run_json(self.db, NYT, JHU, "--config", config)
        waited = time.monotonic() - started
        holder.execute("ROLLBACK")
        holder.close()
        self.assertEqual(code, 4, err)
        self.assertIn("locked by another run", s["message"])
        self.assertGreaterEqual(waited, 0.3)
        self.assertEqual(export(self.db), before)
        self.assertEqual(run_json(self.db, NYT, JHU, "--config", config)[0], 0)

    def test_concurrent_runs_never_interleave(self):
        procs = [subprocess.Popen([BIN, "run", "--json", "--db", self.db, "--nyt", NYT, "--jhu", JHU],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        import json
        results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
        self.assertEqual([p.returncode for p in procs], [0] * 4)
        self.assertEqual(sorted(r["inserted"] for r in results), [0, 0, 0, 820])
        # The others compared every row, or (begun after the load, with the files unchanged) read none.
        for r in results:
            if r["inserted"] == 0:
                read = not r["sources"][0]["not_modified"]
                self.assertEqual((r["status"], r["unchanged"]), ("unchanged", 820 if read else 0))
        self.assertEqual(export(self.db), as_export(reference(NYT, JHU)))
        self.assertEqual(len(history(self.db)), 4)


class SourceStates(TempDirTest):
    """Issue 15: the conditional-GET state of a source is kept under its redacted URL. A store
    written by an older version keeps it under the full URL, token and all: the next load removes
    that row. Run here on SQLite; test_postgres and test_dynamodb run it on their stores, with
    these two hooks overridden."""

    OLD_TOKEN = "old-t0ken-c3a9e1f7"

    def put_source_state(self, url):
        """A state kept under `url`, as an older version wrote it."""
        self.sql_write("INSERT INTO source_state (url, etag, last_modified, content_hash, bytes, run_id) "
                       f"VALUES ('{url}', '\"v0\"', NULL, 'xxh3-128:00', 1, 1)")

    def source_urls(self):
        return sorted(u for (u,) in self.sql("SELECT url FROM source_state"))

    def test_a_state_kept_under_a_url_with_a_secret_is_removed(self):
        server = HttpFixture().start()
        self.addCleanup(server.stop)
        path = f"/us.csv?token={self.OLD_TOKEN}"
        with open(NYT, "rb") as f:
            server.plan(path, Reply(200, f.read(), {"ETag": '"v1"'}))
        code, _, err = run_json(self.db)  # the store, from local files
        self.assertEqual(code, 0, err)
        self.put_source_state(server.url(path))
        code, summary, err = run_json(self.db, server.url(path), JHU)
        self.assertEqual(code, 0, err)
        urls = self.source_urls()
        self.assertIn(server.url("/us.csv?token=***"), urls)
        self.assertEqual([u for u in urls if self.OLD_TOKEN in u], [])
        self.assertNotIn(self.OLD_TOKEN, json.dumps(summary))
