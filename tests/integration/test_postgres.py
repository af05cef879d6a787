"""PostgreSQL as the database: the SQLite scenarios again on a real server, and its failures.

Each class starts its own PostgreSQL server (pgserver.py: initdb in a temporary directory, a free
port on 127.0.0.1, stopped and deleted at the end, also when a test fails), and each test gets a
new database on it; `--db` is its postgresql:// URL with the password of the role `covid`.

The scenarios of test_run.py and test_malformed.py run unchanged against that URL (the classes
below only swap the database in): exact values, the independent reference, identical reruns,
snapshot replay with the NYT revision, dry runs, the inner join, malformed inputs that must
leave `export` byte-identical, concurrent runs. Then what only a server has: the advisory lock,
the server down, a wrong password, a server stopped in the middle of a run, and the URL forms.
"""
import json
import os
import re
import shutil
import subprocess
import time
import unittest
import urllib.parse

import fake_secrets

import etl
import test_malformed
import test_nothing_lost
import test_counties
import test_run
import test_states
from etl import BIN, JHU, NYT, cli, export, history, read_csv, run_json
from httpfixture import HttpFixture, Reply
from pgserver import PgServer

SCHEMA = "covid_etl"
SCHEMA_VERSION = 11  # this build's: the number of steps in src/load/migrations.cc
LOCK_CLASS = 0x636f7669  # PostgresStore::kLockClass


def lock_key(schema):
    """PostgresStore::lock_key: 32-bit FNV-1a of the schema name, as a signed int4."""
    h = 2166136261
    for b in schema.encode():
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h - (1 << 32) if h >= 1 << 31 else h


def literal(v):
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise TypeError(f"no literal for {v!r}")
    return str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"


class OnPostgres:
    """Put before a TempDirTest class: one server per class, a fresh database per test, and
    self.db its URL. sql() and store_exists() look at it with psql as the superuser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = PgServer().start()
        cls.addClassCleanup(cls.server.cleanup)

    def setUp(self):
        super().setUp()
        if not self.server.running:  # a test that stopped it failed before starting it again
            self.server.start()
        self.dbname = self.server.create_database()
        self.db = self.server.url(self.dbname)

    def sql(self, query, params=()):
        parts = query.split("?")
        if len(parts) != len(params) + 1:
            raise ValueError("placeholders and parameters do not match")
        text = parts[0] + "".join(literal(p) + rest for p, rest in zip(params, parts[1:]))
        # Each row as JSON keeps the columns' types: a count is a number, a FIPS code '01003' or
        # a hash of digits stays text, as sqlite3 gives them. (Duplicate column names are kept.)
        text = f"SELECT row_to_json(r) FROM ({text.rstrip().rstrip(';')}) AS r"
        rows = self.server.admin(f"SET search_path = {SCHEMA}; " + text, db=self.dbname)
        return [json.loads(r[0], object_pairs_hook=lambda pairs: tuple(v for _, v in pairs)) for r in rows]

    def sql_tables(self, tables):
        """Every row of each of tables, as sql() gives them: {table: [row]}, in one psql call."""
        union = " UNION ALL ".join(f"SELECT '{t}', row_to_json(r)::text FROM {t} AS r" for t in tables)
        out = {t: [] for t in tables}
        for table, row in self.server.admin(f"SET search_path = {SCHEMA}; " + union, db=self.dbname):
            out[table].append(json.loads(row, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs)))
        return out

    def sql_write(self, statement):
        self.server.admin(f"SET search_path = {SCHEMA}; " + statement, db=self.dbname)

    def store_exists(self):
        return bool(self.server.admin(f"SELECT 1 FROM pg_namespace WHERE nspname = '{SCHEMA}'",
                                      db=self.dbname))

    def new_database(self):
        self.dbname = self.server.create_database()
        self.db = self.server.url(self.dbname)

    def hold_run_lock(self, schema=SCHEMA):
        """Another session holds the run lock until release() is called on what this returns."""
        holder = subprocess.Popen(self.server.psql_cmd(self.dbname), stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        holder.stdin.write(f"BEGIN;\nSELECT pg_advisory_xact_lock({LOCK_CLASS}, {lock_key(schema)});\n")
        holder.stdin.flush()
        self.addCleanup(lambda: holder.poll() is not None or holder.kill())
        deadline = time.monotonic() + 30
        while not self.server.admin(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                f"AND classid = {LOCK_CLASS} AND objid = {lock_key(schema) & 0xffffffff}"):
            self.assertLess(time.monotonic(), deadline, "the holder never got the lock")
            time.sleep(0.05)

        def release():
            holder.stdin.write("ROLLBACK;\n")
            holder.stdin.close()
            holder.wait(timeout=30)
        holder.release = release
        return holder


class OnPostgresRun(OnPostgres, etl.TempDirTest):
    pass


class OnPostgresMalformed(OnPostgres, test_malformed.TempDirTest):
    pass


# --- the SQLite scenarios, on PostgreSQL -----------------------------------------------------

class ExactValues(test_run.ExactValues, OnPostgresRun):
    pass


class DryRunAndJoin(test_run.DryRunAndJoin, OnPostgresRun):
    pass


class SnapshotReplay(test_run.SnapshotReplay, OnPostgresRun):
    pass


class MalformedInputs(test_malformed.MalformedInputs, OnPostgresMalformed):
    pass


class NothingLost(test_nothing_lost.NothingLost, OnPostgresRun):
    pass


class Renames(test_nothing_lost.Renames, OnPostgresRun):
    pass


class CumulativeDecrease(test_malformed.CumulativeDecrease, OnPostgresMalformed):
    pass


class StatesLoad(test_states.StatesLoad, OnPostgresRun):
    pass


class StatesMalformed(test_states.StatesMalformed, OnPostgresRun):
    pass


class CountiesLoad(test_counties.CountiesLoad, OnPostgresRun):
    pass


class CountiesByDate(test_counties.CountiesByDate, OnPostgresRun):
    """The county load date by date, with the date digests PostgreSQL keeps (schema versions 3 and 4)."""

    def test_a_database_of_schema_version_2_is_migrated_then_compared_once(self):
        # As covid-etl before date digests left it: county rows, no date_digests table.
        self.assertEqual(self.run_counties(self.file)[0], 0)
        # Undo steps 3.. (src/load/migrations.cc) so that they run again.
        self.sql_write("DROP TABLE date_digests; DROP TABLE annotations; DROP TABLE populations; "
                       "DROP TABLE dataset_cadence; ALTER TABLE source_state DROP COLUMN name, "
                       "DROP COLUMN dataset, DROP COLUMN header, DROP COLUMN changed_at, "
                       "DROP COLUMN stale_told_at; ALTER TABLE runs DROP COLUMN quality; "
                       "DROP FUNCTION observations_keys_check() CASCADE; "
                       "DROP FUNCTION observations_referenced_check() CASCADE; "
                       "ALTER TABLE observations ADD FOREIGN KEY (location) REFERENCES locations (id), "
                       "ADD FOREIGN KEY (run_id) REFERENCES runs (id); "
                       "UPDATE schema_version SET version = 2")
        code, s, err = self.run_counties(self.file)
        self.assertEqual((code, s["status"], s["unchanged"]), (0, "unchanged", len(self.rows)), err)
        self.assertEqual(self.sql("SELECT version FROM schema_version"), [(SCHEMA_VERSION,)])
        self.assertEqual(self.sql("SELECT count(*) FROM date_digests"), [(len(self.dates),)])
        self.assertEqual(self.stored(), self.expected(self.rows))
        # Read into memory that once, the dates got row digests but no line hashes: the next run
        # that reads the file (the same bytes are not read: under another name here) parses them
        # once more and keeps those too.
        code, s, err = self.run_counties(self.file)
        self.assertEqual((code, s["status"], s["sources"][0]["not_modified"]), (0, "unchanged", True), err)
        code, s, err = self.run_counties(self.copy())
        self.assertEqual((code, s["status"]), (0, "unchanged"), err)
        self.assertEqual(self.sql("SELECT count(*) FROM date_digests WHERE bytes_hash IS NOT NULL"),
                         [(len(self.dates),)])


class Locking(test_run.Locking, OnPostgresRun):
    """test_concurrent_runs_never_interleave as it is (four first runs at once: migrations and
    loads under the advisory lock); the bounded wait with the advisory lock held by psql."""

    def test_a_second_run_waits_a_bounded_time_then_fails(self):
        self.assertEqual(run_json(self.db)[0], 0)
        before = export(self.db)
        config = self.write("lock.toml", "[load]\nlock_timeout_ms = 300\n")
        holder = self.hold_run_lock()
        started = time.monotonic()
        # The same rows under another name: read and loaded, so the run lock is needed (the same
        # bytes would end the run before the load, as a 304 does).
        nyt = self.write("us-copy.csv", open(NYT, encoding="utf-8", newline="").read())
        code, s, err = run_json(self.db, nyt, JHU, "--config", config)
        waited = time.monotonic() - started
        holder.release()
        self.assertEqual(code, 4, err)
        self.assertIn("locked by another run", s["message"])
        self.assertGreaterEqual(waited, 0.3)
        self.assertEqual(export(self.db), before)
        self.assertEqual(history(self.db)[0]["status"], "failed")
        self.assertEqual(history(self.db)[0]["stage"], "load")
        self.assertEqual(run_json(self.db, NYT, JHU, "--config", config)[0], 0)


class Keys(OnPostgresRun):
    """Schema step 10: the keys of observations are checked once per statement by triggers, not
    by per-row foreign keys; every rule of the foreign keys still holds, for any client."""

    def psql_error(self, statement, stdin=None):
        p = subprocess.run(self.server.psql_cmd(self.dbname) + ["-X", "-c", f"SET search_path = {SCHEMA}; " + statement],
                           input=stdin, capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
        self.assertNotEqual(p.returncode, 0, f"{statement!r} succeeded")
        return p.stderr

    def test_rows_naming_an_unknown_location_or_run_are_refused_and_named_ones_cannot_go(self):
        self.assertEqual(run_json(self.db)[0], 0)
        self.assertEqual(self.sql("SELECT conname FROM pg_constraint WHERE contype = 'f' "
                                  "AND conrelid = 'observations'::regclass"), [])
        count = self.sql("SELECT count(*) FROM observations")
        run_id = self.sql("SELECT max(id) FROM runs")[0][0]
        copy_rows = f"US\t1999-01-02\t1\t1\t1\t{run_id}\nXX\t1999-01-03\t1\t1\t1\t{run_id}\n\\.\n"
        for statement, stdin, message in (
                (f"INSERT INTO observations VALUES ('nowhere', '2020-01-01', 1, 1, 1, {run_id})", None,
                 'location \'nowhere\' is not in table "locations"'),
                ("INSERT INTO observations VALUES ('US', '1999-01-01', 1, 1, 1, 999)", None,
                 'run 999 is not in table "runs"'),
                ("COPY observations FROM STDIN", copy_rows, 'location \'XX\' is not in table "locations"'),
                ("UPDATE observations SET run_id = 999 WHERE date = '2020-03-01'", None, "run 999"),
                ("UPDATE observations SET location = 'nowhere' WHERE date = '2020-03-01'", None,
                 "location 'nowhere'"),
                ("DELETE FROM locations WHERE id = 'US'", None, "'US' is named there"),
                ("UPDATE locations SET id = 'USA' WHERE id = 'US'", None, "'US' is named there"),
                ("TRUNCATE locations CASCADE", None, "cannot truncate table locations"),
                ("TRUNCATE runs CASCADE", None, "cannot truncate table runs"),
                (f"DELETE FROM revisions; DELETE FROM source_state; DELETE FROM outbox; "
                 f"DELETE FROM populations; DELETE FROM annotations; DELETE FROM runs WHERE id = {run_id}",
                 None, f"'{run_id}' is named there")):
            with self.subTest(statement=statement):
                self.assertIn(message, self.psql_error(statement, stdin))
        self.assertEqual(self.sql("SELECT count(*) FROM observations"), count)
        # What names nothing may go, as before: a location without rows.
        self.sql_write("INSERT INTO locations (id, type, name) VALUES ('99', 'state', 'Nowhere'); "
                       "DELETE FROM locations WHERE id = '99'")

    def test_a_location_cannot_go_under_a_row_committed_after_the_deleters_snapshot(self):
        """Schema step 11. T2 begins REPEATABLE READ (or SERIALIZABLE) and reads; T1 inserts a row
        for location ZA and commits; T2 deletes ZA and commits. A foreign key refuses (it checks
        with a fresh snapshot); the trigger's query, with T2's snapshot, would not see T1's row and
        leave it an orphan, so outside READ COMMITTED the trigger refuses to delete at all. Under
        READ COMMITTED the same steps are refused as a foreign key refuses them."""
        self.assertEqual(run_json(self.db)[0], 0)
        run_id = self.sql("SELECT max(id) FROM runs")[0][0]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGAPPNAME"] = "covid-etl-keys-t2"
        for location, isolation, message in (
                ("ZA", "REPEATABLE READ", "cannot delete table locations in a REPEATABLE READ transaction"),
                ("ZB", "SERIALIZABLE", "cannot delete table locations in a SERIALIZABLE transaction"),
                ("ZC", "READ COMMITTED", "'ZC' is named there")):
            with self.subTest(isolation=isolation):
                self.sql_write(f"INSERT INTO locations (id, type, name) VALUES ('{location}', 'state', 'Nowhere')")
                t2 = subprocess.Popen(self.server.psql_cmd(self.dbname), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                self.addCleanup(lambda p=t2: p.poll() is not None or p.kill())
                t2.stdin.write(f"SET search_path = {SCHEMA};\nBEGIN ISOLATION LEVEL {isolation};\n"
                               "SELECT count(*) FROM observations;\n")
                t2.stdin.flush()
                deadline = time.monotonic() + 30
                while not self.server.admin(  # T2 has read, and holds its snapshot when not RC
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'covid-etl-keys-t2' "
                        "AND state = 'idle in transaction'"):
                    self.assertLess(time.monotonic(), deadline, "T2 never read")
                    time.sleep(0.05)
                self.sql_write(f"INSERT INTO observations VALUES ('{location}', '1999-01-01', 1, 1, 1, {run_id})")  # T1
                _, err = t2.communicate(f"DELETE FROM locations WHERE id = '{location}';\nCOMMIT;\n", timeout=60)
                self.assertNotEqual(t2.returncode, 0, "T2's DELETE succeeded")
                self.assertIn(message, err)
                self.assertEqual(self.sql("SELECT count(*) FROM observations o WHERE NOT EXISTS "
                                          "(SELECT 1 FROM locations l WHERE l.id = o.location)"), [(0,)])
                self.assertEqual(self.sql("SELECT count(*) FROM locations WHERE id = ?", (location,)), [(1,)])
        # Outside READ COMMITTED, a DELETE that deletes nothing, and the other tables, are as before.
        p = subprocess.run(self.server.psql_cmd(self.dbname), capture_output=True, text=True, timeout=60, env=env,
                           input=f"SET search_path = {SCHEMA};\nBEGIN ISOLATION LEVEL REPEATABLE READ;\n"
                                 "DELETE FROM locations WHERE id = 'none';\nDELETE FROM dataset_cadence;\nCOMMIT;\n")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_a_load_is_read_committed_whatever_the_databases_default(self):
        """The load's transaction asks for READ COMMITTED: on a database whose default isolation is
        REPEATABLE READ, a run that replaces a dataset (deleting its locations, which the key's
        trigger refuses outside READ COMMITTED) still works."""
        import test_world
        self.server.admin(f"ALTER DATABASE {self.dbname} SET default_transaction_isolation = 'repeatable read'")
        config = self.write("only-world.toml", "[datasets]\nnational = false\nstates = false\n")
        for extra in ((), ("--replace-dataset", "world")):
            with self.subTest(extra=extra):
                p = cli("run", "--json", "--config", config, "--db", self.db, "--who", test_world.DAILY_1, *extra)
                self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreater(self.sql("SELECT count(*) FROM locations WHERE type = 'country'")[0][0], 200)


class Replicas(OnPostgresRun):
    """Several servers on one database (README: Several servers on one PostgreSQL)."""

    # The contract: every server shows a commit's data within a second of it. Instrumented
    # builds (sanitizers) run several times slower.
    WITHIN = 1.0 * (5 if any(v in os.environ for v in ("ASAN_OPTIONS", "TSAN_OPTIONS")) else 1)

    def test_two_servers_show_a_run_from_a_third_process_and_ride_out_the_database_going_down(self):
        import test_serve
        with open(NYT, encoding="utf-8", newline="") as f:
            lines = f.readlines()
        part = self.write("us-part.csv", "".join(lines[:401]))  # the header and 400 dates
        self.assertEqual(run_json(self.db, part)[0], 0)
        servers = [test_serve.Server(self.db), test_serve.Server(self.db)]
        self.addCleanup(lambda: [s.kill() for s in servers])
        for s in servers:
            self.assertEqual(s.get_json("/api/v1/series")["count"], 400)
        # A run from a third process: once it has committed (the process has exited), each server
        # shows its data within the contract's second, without a restart.
        code, summary, err = run_json(self.db)
        self.assertEqual((code, summary["status"]), (0, "ok"), err)
        committed = time.monotonic()
        for s in servers:
            while s.get_json("/api/v1/series")["count"] != 820:
                self.assertLess(time.monotonic() - committed, self.WITHIN, "a server still shows the old data")
                time.sleep(0.02)
            self.assertEqual(s.get_json("/api/v1/summary")["last_run"]["id"], summary["run_id"])
        self.assertEqual(servers[0].request("/api/v1/export.csv")[2], servers[1].request("/api/v1/export.csv")[2])

        # The database goes down: each server keeps answering the data it has, and /healthz says
        # degraded (503); back up, it says ok again.
        self.server.stop("fast")
        for s in servers:
            deadline = time.monotonic() + 30
            while s.request("/healthz")[0] != 503:
                self.assertLess(time.monotonic(), deadline, "/healthz never said degraded")
                time.sleep(0.05)
            health = s.get_json("/healthz", status=503)
            self.assertEqual(health["status"], "degraded")
            self.assertNotIn(self.server.password, json.dumps(health))
            self.assertEqual(s.get_json("/api/v1/series")["count"], 820)
        self.server.start()
        for s in servers:
            deadline = time.monotonic() + 30
            while s.request("/healthz")[0] != 200:
                self.assertLess(time.monotonic(), deadline, "/healthz never recovered")
                time.sleep(0.05)
            self.assertEqual(s.get_json("/healthz")["status"], "ok")
            self.assertEqual(s.get_json("/api/v1/series")["count"], 820)

    def test_two_daemons_with_one_schedule_run_it_once(self):
        import test_daemon
        config = self.write("d.toml", f'[sources]\nnyt = "{NYT}"\njhu = "{JHU}"\n'
                                      '[schedule]\ncron = "0 0 1 1 *"\n')
        # Both start with no successful run, so both want a catch-up run at once; the run lock is
        # held meanwhile so that the first daemon's run cannot finish before the second starts.
        self.assertEqual(cli("notify", "--flush", "--db", self.db).returncode, 0)  # creates the schema
        self.assertTrue(self.store_exists())
        holder = self.hold_run_lock()
        daemons = [test_daemon.Daemon(self, config), test_daemon.Daemon(self, config)]
        deadline = time.monotonic() + 60
        skipped = []
        while len(skipped) != 1:
            self.assertLess(time.monotonic(), deadline, "\n".join(daemons[0].lines + daemons[1].lines))
            skipped = [d for d in daemons if any("schedule_skipped" in l for l in d.lines)]
            time.sleep(0.05)
        holder.release()
        runner = daemons[1 - daemons.index(skipped[0])]
        runner.wait_for_log("run_finished: run 1 ok")
        line = next(l for l in skipped[0].lines if "schedule_skipped" in l)
        self.assertIn("another covid-etl daemon runs the schedule of PostgreSQL", line)
        self.assertIn("the catch-up run (no successful run yet) is skipped", line)
        self.assertIn("server process ", line)
        self.assertNotIn(self.server.password, line)
        self.assertFalse(any("run_started" in l for l in skipped[0].lines), skipped[0].lines)
        self.assertEqual([r["status"] for r in history(self.db)], ["ok"])
        # The daemon that skipped serves what the other's run committed.
        deadline = time.monotonic() + 10
        while skipped[0].request("/api/v1/series")[1].get("count") != 820:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        for d in daemons:
            self.assertEqual(d.stop(), 0)


# --- both stores give the same answers ----------------------------------------------------------

class SameAsSqlite(test_run.SameAnswersAsSqlite, OnPostgresRun):
    def test_export_and_history_match_sqlite_byte_for_byte(self):
        self.assert_same_answers_as_sqlite()
        self.assertEqual(self.sql("SELECT count(*) FROM revisions"), [(5,)])

    def test_serve_answers_the_same_api_on_both_stores(self):
        import test_serve
        sqlite_db = self.path("serve.db")
        rows = read_csv(NYT)
        for r in rows[600:602]:
            r["cases"] = str(int(r["cases"]) + 1)
        for nyt in (NYT, test_run.write_nyt(self.path("revised.csv"), rows)):
            for db in (sqlite_db, self.db):
                self.assertEqual(run_json(db, nyt)[0], 0)
        servers = [test_serve.Server(sqlite_db), test_serve.Server(self.db)]
        self.addCleanup(lambda: [s.kill() for s in servers])

        def timeless(v):
            if isinstance(v, dict):
                return {k: timeless(x) for k, x in v.items()
                        if k not in ("started_at", "finished_at", "duration_ms", "changed_at")}
            return [timeless(x) for x in v] if isinstance(v, list) else v
        for path in ("/api/v1/series", "/api/v1/series?from=2021-06-01&to=2021-06-30", "/api/v1/summary",
                     "/api/v1/runs"):
            with self.subTest(path=path):
                a, b = (timeless(s.get_json(path)) for s in servers)
                self.assertEqual(a, b)
        a, b = (s.request("/api/v1/export.csv") for s in servers)
        self.assertEqual((a[0], a[2]), (b[0], b[2]))
        self.assertEqual(a[2].decode(), export(self.db))

    def test_tables_are_typed_for_other_tools(self):
        self.assertEqual(run_json(self.db)[0], 0)
        types = dict(self.server.admin(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = '{SCHEMA}' AND table_name = 'observations'", db=self.dbname))
        self.assertEqual(types, {"location": "text", "date": "date", "cases": "bigint", "deaths": "bigint",
                                 "recovered": "bigint", "run_id": "bigint"})
        self.assertEqual(self.sql("SELECT cases, recovered FROM observations WHERE date = '2020-12-13'"),
                         [(16368898, 6298082)])
        self.assertEqual(self.sql("SELECT count(*) FROM observations WHERE recovered IS NULL"),
                         [(sum(1 for v in test_run.reference(NYT, JHU).values() if v[2] is None),)])
        self.assertEqual(self.sql("SELECT sources->1->>'name', status FROM runs"), [("jhu", "ok")])
        self.assertEqual(self.sql("SELECT version FROM schema_version"), [(SCHEMA_VERSION,)])


# --- what only a server has -----------------------------------------------------------------

class ServerFailures(OnPostgresRun):
    def assert_no_secret(self, *texts, secret=None):
        secret = secret or self.server.password
        for t in texts:
            self.assertNotIn(secret, t or "")

    def test_server_down_fails_with_exit_4_then_the_next_run_succeeds(self):
        self.server.stop()
        started = time.monotonic()
        p = cli("run", "--json", "--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(p.returncode, 4, p.stderr)
        s = json.loads(p.stdout)
        self.assertEqual((s["status"], s["stage"], s["run_id"], s["inserted"]), ("failed", "load", None, 0))
        self.assertIn("cannot connect to PostgreSQL", s["message"])
        self.assertIn(f"127.0.0.1:{self.server.port}/{self.dbname}", s["message"])
        self.assert_no_secret(p.stdout, p.stderr)
        for sub in ("export", "history"):
            q = cli(sub, "--db", self.db)
            self.assertEqual(q.returncode, 4, q.stderr)
            self.assertIn("cannot connect to PostgreSQL", q.stderr)
            self.assert_no_secret(q.stdout, q.stderr)
        self.server.start()
        code, s, err = run_json(self.db)
        self.assertEqual((code, s["inserted"]), (0, 820), err)
        self.assertEqual([r["status"] for r in history(self.db)], ["ok"])

    def test_wrong_password_fails_with_exit_4_without_the_password(self):
        wrong = "Wr0ng-" + self.server.password[::-1]
        url = self.server.url(self.dbname, password=wrong)
        for args in (["run", "--json", "--nyt", NYT, "--jhu", JHU], ["export"], ["history"]):
            with self.subTest(args=args[0]):
                p = cli(*args, "--db", url)
                self.assertEqual(p.returncode, 4, p.stderr)
                out = p.stdout + p.stderr
                self.assertIn("password authentication failed", out)
                self.assertIn("covid:***@127.0.0.1", out)
                self.assert_no_secret(p.stdout, p.stderr, secret=wrong)
                self.assert_no_secret(p.stdout, p.stderr)
        self.assertFalse(self.store_exists())

    def test_password_from_pgpassword_or_pgpass(self):
        bare = self.server.url(self.dbname, password="")
        self.assertEqual(cli("history", "--db", bare, env={"PGPASSWORD": "nope"}).returncode, 4)
        code, s, err = run_json(bare, env={"PGPASSWORD": self.server.password})
        self.assertEqual((code, s["inserted"]), (0, 820), err)
        passfile = self.write("pgpass", f"127.0.0.1:{self.server.port}:*:covid:{self.server.password}\n")
        os.chmod(passfile, 0o600)
        p = cli("export", "--db", bare, env={"PGPASSFILE": passfile})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, test_run.as_export(test_run.reference(NYT, JHU)))
        runs = json.dumps(history(self.db))
        self.assert_no_secret(runs)

    def test_unreachable_host_fails_within_the_connect_timeout(self):
        started = time.monotonic()
        p = cli("run", "--db", "postgresql://covid:s3cret-pw@192.0.2.1:5432/covid?connect_timeout=2",
                "--nyt", NYT, "--jhu", JHU, timeout=60)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertLess(time.monotonic() - started, 20)
        self.assertIn("cannot connect to PostgreSQL postgresql://covid:***@192.0.2.1:5432/covid", p.stderr)
        self.assertNotIn("s3cret-pw", p.stdout + p.stderr)

    def test_server_stopped_while_a_run_waits_fails_cleanly_and_the_next_run_succeeds(self):
        self.assertEqual(run_json(self.db)[0], 0)
        before = export(self.db)
        rows = read_csv(NYT)
        for r in rows[100:103]:
            r["cases"] = str(int(r["cases"]) + 5)
        revised = test_run.write_nyt(self.path("revised.csv"), rows)
        config = self.write("wait.toml", "[load]\nlock_timeout_ms = 120000\n")
        holder = self.hold_run_lock()
        run = subprocess.Popen([BIN, "run", "--json", "--config", config, "--db", self.db, "--nyt", revised,
                                "--jhu", JHU], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: run.poll() is not None or run.kill())
        deadline = time.monotonic() + 60
        while not self.server.admin("SELECT 1 FROM pg_stat_activity WHERE application_name = 'covid-etl' "
                                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"):
            self.assertIsNone(run.poll(), "the run ended before it waited for the lock")
            self.assertLess(time.monotonic(), deadline, "the run never waited for the lock")
            time.sleep(0.05)
        self.server.stop("fast")
        out, err = run.communicate(timeout=60)
        holder.stdin.close()  # its connection is gone too
        holder.wait(timeout=30)
        self.assertEqual(run.returncode, 4, err)
        s = json.loads(out)
        self.assertEqual((s["status"], s["stage"], s["inserted"], s["updated"]), ("failed", "load", 0, 0))
        self.assertIn("lost the connection to the server", s["message"])
        self.assertIn("nothing of this run was written", s["message"])
        self.assert_no_secret(out, err)

        self.server.start()
        self.assertEqual(export(self.db), before)
        self.assertNotIn("ok", [r["status"] for r in history(self.db)][:1])
        code, s, err = run_json(self.db, revised)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["inserted"], s["updated"], s["unchanged"]), ("ok", 0, 3, 817))
        self.assertEqual(export(self.db), test_run.as_export(test_run.reference(revised, JHU)))
        self.assertEqual(len(self.sql("SELECT * FROM revisions WHERE run_id = ?", (s["run_id"],))), 3)


class SourceStates(test_run.SourceStates, OnPostgresRun):
    pass  # sql() and sql_write() look in the covid_etl schema


class PasswordInUrl(OnPostgresRun):
    """Issue 15: a password with '/' and '@' (fake_secrets.PG_URL_PASSWORD) in a postgresql:// URL.

    Written unencoded, libpq reads postgresql://etl:pgurl-f4k3/7c@e2b-41@host/db as host "etl" and
    port "pgurl-f4k3", and its error quoted that part of the password into the run's output and
    the failure notification. Such a URL is now a usage error that shows none of its user info;
    percent-encoded, the same password works and is never shown either."""

    ROLE = "etl_slash"

    def setUp(self):
        super().setUp()
        password = fake_secrets.PG_URL_PASSWORD.replace("'", "''")
        if not self.server.admin(f"SELECT 1 FROM pg_roles WHERE rolname = '{self.ROLE}'"):
            self.server.admin(f"CREATE ROLE {self.ROLE} LOGIN PASSWORD '{password}'")
        self.server.admin(f"GRANT ALL ON DATABASE {self.dbname} TO {self.ROLE}")
        self.server.admin(f"ALTER DATABASE {self.dbname} OWNER TO {self.ROLE}")
        self.hook = HttpFixture().start()
        self.addCleanup(self.hook.stop)
        self.hook.plan("/hook", Reply(200))
        self.config = self.write("c.toml", f'[[notify]]\ntype = "webhook"\nurl = "{self.hook.url("/hook")}"\n')

    def url(self, password):
        return f"postgresql://{self.ROLE}:{password}@127.0.0.1:{self.server.port}/{self.dbname}"

    def assert_no_part_of_the_password(self, *texts):
        secret = fake_secrets.PG_URL_PASSWORD
        parts = [p for p in re.split("[/@]", secret) if len(p) >= 6]
        for text in texts:
            for leak in [secret, urllib.parse.quote(secret, safe="")] + parts:
                self.assertNotIn(leak, text)

    def test_an_unencoded_slash_or_at_is_refused_without_showing_the_password(self):
        url = self.url(fake_secrets.PG_URL_PASSWORD)
        p = cli("run", "--json", "--config", self.config, "--db", url, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 64, p.stderr)
        s = json.loads(p.stdout)
        self.assertEqual((s["status"], s["stage"]), ("failed", "usage"), s)
        self.assertIn("percent-encoded", s["message"])
        self.assertIn(f"postgresql://***@", s["message"])
        # The failure is still told, straight away, to the webhook.
        [post] = self.hook.requests_for("/hook")
        self.assertEqual(json.loads(post.body)["event"], "failure")
        others = [cli(sub, "--db", url) for sub in ("history", "export")]
        for q in others:
            self.assertEqual(q.returncode, 64, q.stderr)
        serve = subprocess.run([BIN, "serve", "--db", url, "--listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60)
        self.assert_no_part_of_the_password(p.stdout, p.stderr, post.body.decode(), serve.stdout,
                                            serve.stderr, *[q.stdout + q.stderr for q in others])

    def test_percent_encoded_the_same_password_works_and_is_never_shown(self):
        url = self.url(urllib.parse.quote(fake_secrets.PG_URL_PASSWORD, safe=""))
        p = cli("run", "--json", "--config", self.config, "--db", url, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["inserted"], 820)
        h = cli("history", "--json", "--db", url)
        self.assertEqual(h.returncode, 0, h.stderr)
        [post] = self.hook.requests_for("/hook")
        self.assert_no_part_of_the_password(p.stdout, p.stderr, h.stdout, h.stderr, post.body.decode())


class UrlForms(OnPostgresRun):
    def test_serve_and_the_daemon_show_the_database_without_its_password(self):
        # Both print the database they serve at start; the password once went out with it (found
        # by secrets.scan). It is shown as ***, as in every message.
        self.assertEqual(run_json(self.db)[0], 0)
        config = self.write("d.toml", '[schedule]\ncron = "0 0 1 1 *"\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
        for args in (["serve"], ["daemon", "--config", config]):
            with self.subTest(command=args[0]):
                proc = subprocess.Popen([BIN, *args, "--db", self.db, "--listen", "127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                try:
                    line = proc.stdout.readline()
                finally:
                    proc.terminate()
                    out, err = proc.communicate(timeout=30)
                self.assertIn("listening on http://127.0.0.1:", line, err)
                self.assertIn(f"covid:***@127.0.0.1:{self.server.port}/{self.dbname}", line)
                for text in (line, out, err):
                    self.assertNotIn(self.server.password, text)
                    self.assertNotIn(self.server.password.replace("/", "%2F").replace("+", "%2B"), text)

    def test_schema_parameter_keeps_stores_apart(self):
        a, b = self.server.url(self.dbname, schema="alpha"), self.server.url(self.dbname, schema="Beta_2")
        self.assertEqual(run_json(a)[0], 0)
        short = test_run.write_nyt(self.path("short.csv"), read_csv(NYT)[:10])
        self.assertEqual(run_json(b, short)[0], 0)
        self.assertEqual(len(export(a).splitlines()), 821)
        self.assertEqual(len(export(b).splitlines()), 11)
        self.assertEqual(sorted(r[0] for r in self.server.admin(
            "SELECT nspname FROM pg_namespace WHERE nspname IN ('alpha', 'Beta_2', 'covid_etl')", db=self.dbname)),
            ["Beta_2", "alpha"])
        # Each schema has its own lock: holding alpha's does not stop a run on Beta_2.
        holder = self.hold_run_lock("alpha")
        config = self.write("quick.toml", "[load]\nlock_timeout_ms = 0\n")
        self.assertEqual(run_json(b, NYT, JHU, "--config", config)[0], 0)
        # The same file under another name is read (the same bytes under the same name would end
        # the run as unchanged before it needs the lock).
        copy = self.path("us-copy.csv")
        shutil.copyfile(NYT, copy)
        self.assertEqual(run_json(a, copy, JHU, "--config", config)[0], 4)
        holder.release()

    def test_bad_schema_is_a_usage_error_and_creates_nothing(self):
        for schema in ("1abc", "pg_catalog", 'x"; DROP SCHEMA public; --', "a" * 64, ""):
            with self.subTest(schema=schema):
                p = cli("run", "--db", self.server.url(self.dbname, schema=schema), "--nyt", NYT, "--jhu", JHU)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn("schema", p.stderr)
        self.assertEqual(self.server.admin("SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
                                           "AND nspname NOT IN ('public', 'information_schema')",
                                           db=self.dbname), [["0"]])

    def test_a_schema_made_by_an_administrator_serves_a_role_that_cannot_create_schemas(self):
        self.server.admin("CREATE ROLE etl_limited LOGIN PASSWORD 'limited-pw'")
        self.server.admin("CREATE SCHEMA lim AUTHORIZATION etl_limited", db=self.dbname)
        code, s, err = run_json(self.server.url(self.dbname, user="etl_limited", password="limited-pw",
                                                schema="lim"))
        self.assertEqual((code, s["inserted"]), (0, 820), err)
        p = cli("run", "--db", self.server.url(self.dbname, user="etl_limited", password="limited-pw"),
                "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("permission denied for database", p.stderr)
        self.assertNotIn("limited-pw", p.stderr)

    def test_keyword_value_string_environment_and_configuration_file(self):
        kv = (f"host=127.0.0.1 port={self.server.port} dbname={self.dbname} user=covid "
              f"password='{self.server.password}' schema=kv")
        code, s, err = run_json(kv)
        self.assertEqual((code, s["inserted"]), (0, 820), err)
        p = cli("history", "--json", env={"COVID_ETL_DB": self.db.replace("postgresql://", "postgres://")})
        self.assertEqual(p.returncode, 4)  # the default schema is still empty
        self.assertIn("no covid-etl data", p.stderr)
        config = self.write("pg.toml", f'db = "{self.server.url(self.dbname, schema="kv")}"\n')
        p = cli("export", "--config", config)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, test_run.as_export(test_run.reference(NYT, JHU)))
        p = cli("history", "--json", env={"COVID_ETL_DB": kv})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)), 1)


if __name__ == "__main__":
    unittest.main()
