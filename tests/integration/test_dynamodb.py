"""DynamoDB as the database: the real binary against dynalite (a DynamoDB-compatible server,
npm), started by each test class on 127.0.0.1, behind a proxy (dynalite.py) that checks every
request's SigV4 signature with botocore, counts the requests and injects what dynalite never
does: UnprocessedItems, throttling, 5xx.

Each test gets its own tables (`--db dynamodb://covid-<test>-<random>?region=...&endpoint=<proxy>`).
The scenarios of test_run.py run against them unchanged where they only use the command line;
where they look inside the database they are given the DynamoDB equivalent. What is stored is
checked independently with boto3 (Debian's python3-boto3), talking to dynalite directly.
The AWS credentials are recognisable fakes; every output of the binary and every stored item is
checked for them.
"""
import csv
import io
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
from unittest import mock

import artifacts
import etl
import fake_secrets
import test_daemon
import test_nothing_lost
import test_run
from awssig import signed_headers
from dynalite import Dynalite, DynamoProxy, error_reply
from etl import BIN, JHU, NYT, cli, export, history, read_csv, run_json
from httpfixture import HttpFixture, Reply

REGION = "us-east-1"
SECRETS = dict(fake_secrets.AWS)  # the suite's fake AWS credentials (fake_secrets.py)
_real_cli = etl.cli


def checked_cli(*args, **kwargs):
    """etl.cli, and no fake credential in what the binary printed."""
    p = _real_cli(*args, **kwargs)
    for name, value in SECRETS.items():
        if value in (p.stdout or "") or value in (p.stderr or ""):
            raise AssertionError(f"{name} leaked in the output of {args[:1]}")
    return p


def value(attr):
    """A DynamoDB attribute value as Python: N -> int, S -> str, NULL -> None."""
    (kind, v), = attr.items()
    return {"N": int, "S": str, "NULL": lambda _: None}[kind](v)


def padded(run_id):
    return f"{run_id:020d}"


class OnDynamo:
    """Put before a TempDirTest class: dynalite and the proxy for the class, fresh tables per
    test, self.db their URL, self.aws a boto3 client straight to dynalite."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dynalite = Dynalite().start()
        cls.addClassCleanup(cls.dynalite.stop)
        cls.proxy = DynamoProxy(cls.dynalite.port, SECRETS["AWS_ACCESS_KEY_ID"], SECRETS["AWS_SECRET_ACCESS_KEY"],
                                REGION)
        cls.addClassCleanup(cls.proxy.stop)
        import boto3
        cls.aws = boto3.client("dynamodb", region_name=REGION, endpoint_url=cls.dynalite.url(),
                               aws_access_key_id="boto3-checker", aws_secret_access_key="boto3-checker")
        cls.addClassCleanup(cls.aws.close)

    def setUp(self):
        super().setUp()
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", self.id().rsplit(".", 1)[-1])[:60]
        self.table = f"covid-{name}-{secrets.token_hex(3)}"
        self.meta_table = self.table + "-meta"
        self.db = self.url(self.table)
        for patch in (mock.patch.dict(os.environ, SECRETS), mock.patch.object(etl, "cli", checked_cli),
                      mock.patch.object(test_run, "cli", checked_cli)):
            patch.start()
            self.addCleanup(patch.stop)
        self.proxy.reset()
        self.addCleanup(self.assert_no_secret_stored)

    def url(self, table, region=REGION):
        return f"dynamodb://{table}?region={region}&endpoint={self.proxy.url()}"

    # --- looking at the tables, independently of covid-etl --------------------------------

    def tables(self):
        return self.aws.list_tables()["TableNames"]

    def store_exists(self):
        return self.table in self.tables()

    def scan(self, table, raw=False):
        items = []
        for page in self.aws.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            items += page["Items"]
        return items if raw else [{k: value(v) for k, v in i.items()} for i in items]

    def meta(self, pk):
        """The items of one partition of the meta table, by sort key."""
        items = []
        for page in self.aws.get_paginator("query").paginate(
                TableName=self.meta_table, KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}}, ConsistentRead=True):
            items += page["Items"]
        return [{k: value(v) for k, v in i.items()} for i in items]

    def series(self):
        """date -> (cases, deaths, recovered) as stored, None where an attribute is absent."""
        return {i["date"]: (i.get("cases"), i.get("deaths"), i.get("recovered")) for i in self.scan(self.table)}

    def revisions(self, run_id):  # test_run.SnapshotReplay's view of the revisions of one run
        rows = [i for i in self.meta("revision") if i["sk"].startswith(padded(run_id) + "#")]
        return [(i["date"], i.get("old_cases"), i.get("new_cases"), i.get("old_deaths"), i.get("new_deaths"),
                 i.get("old_recovered"), i.get("new_recovered")) for i in sorted(rows, key=lambda i: i["date"])]

    def assert_no_secret_stored(self):
        dump = "".join(json.dumps(self.scan(t, raw=True)) for t in (self.table, self.meta_table) if t in self.tables())
        artifacts.capture("dynamodb", dump, self.table + ".json")  # for secrets.scan too
        for name, secret in SECRETS.items():
            self.assertNotIn(secret, dump, f"{name} stored")

    def data_writes(self):
        """The (operation, table) of every request that wrote to the data table."""
        return [(c.op, t) for c in self.proxy.calls() for t in c.tables()
                if t == self.table and c.op not in ("DescribeTable", "Query", "GetItem", "Scan")]


class OnDynamoRun(OnDynamo, etl.TempDirTest):
    pass


# --- the scenarios of test_run.py, on DynamoDB --------------------------------------------------

class ExactValues(test_run.ExactValues, OnDynamoRun):
    def test_identical_rerun_writes_nothing(self):
        before = export(self.db)
        first = history(self.db)[0]["id"]
        self.proxy.reset()
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        # The files are byte for byte what the last run loaded: not read, nothing compared (issue
        # 17, Speed).
        self.assertEqual((s["status"], s["inserted"], s["updated"], s["unchanged"]), ("unchanged", 0, 0, 0))
        self.assertEqual([x["not_modified"] for x in s["sources"]], [True, True])
        # Counted at the proxy: no write reached the data table, and the meta table got exactly
        # the run's record (begun, then completed) and its number: no load, so no lock.
        self.assertEqual(self.data_writes(), [])
        self.assertEqual(self.proxy.calls("BatchWriteItem"), [])
        meta_writes = sorted((c.op, c.body.get("Key", c.body.get("Item", {})).get("pk", {}).get("S"))
                             for c in self.proxy.calls() if c.op in ("PutItem", "UpdateItem", "DeleteItem"))
        self.assertEqual(meta_writes, [("PutItem", "run"), ("PutItem", "run"), ("UpdateItem", "counter")])
        self.assertEqual([c.op for c in self.proxy.calls() if self.table in c.tables() and c.op == "Query"], [])
        self.assertEqual(export(self.db), before)
        runs = history(self.db)
        self.assertEqual([r["status"] for r in runs], ["unchanged", "ok"])
        self.assertGreater(runs[0]["id"], runs[1]["id"])
        self.assertEqual(self.meta("revision"), [])
        self.assertEqual({i["run_id"] for i in self.scan(self.table)}, {first})


class DryRunAndJoin(test_run.DryRunAndJoin, OnDynamoRun):
    pass


class NothingLost(test_nothing_lost.NothingLost, OnDynamoRun):
    """DynamoDB keeps no location names, so Renames has nothing to compare there."""


class SnapshotReplay(test_run.SnapshotReplay, OnDynamoRun):
    revisions = OnDynamo.revisions


class Locking(test_run.Locking, OnDynamoRun):
    """test_concurrent_runs_never_interleave as it is: four first runs at once, on tables that do
    not exist yet (created once, the others wait for them), under the lock item."""

    def put_lock(self, holder, lease_until_ms):
        self.aws.put_item(TableName=self.meta_table, Item={
            "pk": {"S": "lock"}, "sk": {"S": "run"}, "owner": {"S": "someone-else"}, "holder": {"S": holder},
            "lease_until": {"N": str(lease_until_ms)}})

    def test_a_second_run_waits_a_bounded_time_then_fails(self):
        self.assertEqual(run_json(self.db)[0], 0)
        before = export(self.db)
        config = self.write("lock.toml", "[load]\nlock_timeout_ms = 300\n")
        self.put_lock("other-host:4242", int(time.time() * 1000) + 600_000)
        started = time.monotonic()
        # The same rows under another name: read and loaded, so the run lock is needed (the same
        # bytes would end the run before the load, as a 304 does).
        nyt = self.write("us-copy.csv", open(NYT, encoding="utf-8", newline="").read())
        code, s, err = run_json(self.db, nyt, JHU, "--config", config)
        waited = time.monotonic() - started
        self.assertEqual(code, 4, err)
        self.assertIn("locked by another run", s["message"])
        self.assertIn("other-host:4242", s["message"])
        self.assertGreaterEqual(waited, 0.3)
        self.assertLess(waited, 10)
        self.assertEqual(export(self.db), before)
        self.assertEqual((history(self.db)[0]["status"], history(self.db)[0]["stage"]), ("failed", "load"))
        self.assertEqual(self.meta("lock")[0]["holder"], "other-host:4242")  # not taken, not deleted
        self.aws.delete_item(TableName=self.meta_table, Key={"pk": {"S": "lock"}, "sk": {"S": "run"}})
        self.assertEqual(run_json(self.db, NYT, JHU, "--config", config)[0], 0)
        self.assertEqual(self.meta("lock"), [])  # released at commit

    def test_an_expired_lock_is_taken_over(self):
        self.assertEqual(run_json(self.db, test_run.write_nyt(self.path("part.csv"), read_csv(NYT)[:100]))[0], 0)
        self.put_lock("crashed-host:1", int(time.time() * 1000) - 1)
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["inserted"], s["unchanged"]), (720, 100))
        self.assertEqual(self.meta("lock"), [])


# --- what is stored, checked independently with boto3 -----------------------------------------

class IndependentCheck(OnDynamoRun):
    def test_items_tables_and_records_as_boto3_sees_them(self):
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        expected = test_run.reference(NYT, JHU)
        self.assertEqual(self.series(), expected)
        raw = self.scan(self.table, raw=True)
        self.assertEqual(len(raw), 820)
        for item in raw:
            self.assertEqual(item["location"], {"S": "US"})
            self.assertEqual(item["run_id"], {"N": str(s["run_id"])})
            self.assertTrue(set(item) <= {"location", "date", "cases", "deaths", "recovered", "run_id"}, item)
            self.assertIn("N", item["cases"])
        unknown = [d for d, v in expected.items() if v[2] is None]
        self.assertEqual(sorted(i["date"]["S"] for i in raw if "recovered" not in i), sorted(unknown))
        self.assertEqual(next(i for i in raw if i["date"]["S"] == "2020-12-13")["recovered"], {"N": "6298082"})

        for table, keys in ((self.table, [("location", "HASH"), ("date", "RANGE")]),
                            (self.meta_table, [("pk", "HASH"), ("sk", "RANGE")])):
            t = self.aws.describe_table(TableName=table)["Table"]
            self.assertEqual(t["TableStatus"], "ACTIVE")
            self.assertEqual([(k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]], keys)
            self.assertEqual(t["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")

        [run] = self.meta("run")
        self.assertEqual((run["sk"], run["id"], run["status"], run["inserted"], run["unchanged"]),
                         (padded(s["run_id"]), s["run_id"], "ok", 820, 0))
        self.assertEqual((run["first_date"], run["last_date"]), ("2020-01-21", "2022-04-19"))
        self.assertEqual(json.loads(run["sources"])[0]["name"], "nyt")
        sources = {i["url"]: i for i in self.meta("source")}
        self.assertEqual(sorted(sources), sorted([NYT, JHU]))
        self.assertEqual(sources[NYT]["content_hash"], s["sources"][0]["content_hash"])
        self.assertEqual(sources[JHU]["bytes"], os.path.getsize(JHU))
        self.assertEqual(self.meta("counter"), [{"pk": "counter", "sk": "outbox", "value": 1},
                                                {"pk": "counter", "sk": "run", "value": 1}])
        [message] = self.meta("outbox")  # the default channel, log: delivered at once
        self.assertEqual((message["sk"], message["run_id"], message["channel"], message["status"], message["attempts"]),
                         (padded(1), s["run_id"], "log", "delivered", 1))
        self.assertIn("820 new dates", message["subject"])
        self.assertEqual(self.meta("schema"), [{"pk": "schema", "sk": "version", "version": 1}])
        self.assertEqual(self.meta("lock"), [])

    def test_serve_reads_the_same_tables(self):
        self.assertEqual(run_json(self.db)[0], 0)
        self.proxy.reset()
        p = subprocess.Popen([BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is not None or (p.terminate(), p.communicate(timeout=30)))
        line = p.stdout.readline()
        m = re.search(r"listening on (http://\S+/)", line)
        self.assertIsNotNone(m, line + p.stderr.read() if p.poll() is not None else line)
        with urllib.request.urlopen(m.group(1) + "api/v1/export.csv", timeout=30) as r:
            self.assertEqual(r.read().decode(), export(self.db))
        with urllib.request.urlopen(m.group(1) + "api/v1/runs", timeout=30) as r:
            self.assertIn('"ok"', r.read().decode())
        self.assertEqual(self.data_writes(), [])
        self.assertEqual({c.op for c in self.proxy.calls()}, {"DescribeTable", "GetItem", "Query"})
        p.terminate()
        out, err = p.communicate(timeout=30)
        for secret in SECRETS.values():
            self.assertNotIn(secret, line + out + err)


# --- throttling, unprocessed items, 5xx, and runs that fail or die half-way ----------------------

def data_dates(call, table):
    return [w["PutRequest"]["Item"]["date"]["S"] for t, w in (call.forwarded or []) if t == table]


class Faults(OnDynamoRun):
    def test_unprocessed_items_throttling_and_5xx_still_load_everything_once(self):
        def fault(call, n):
            if call.op == "BatchWriteItem":
                if n % 3 == 0:
                    return error_reply(400, "ProvisionedThroughputExceededException", "The level of configured "
                                       "provisioned throughput for the table was exceeded.")
                if n % 3 == 1:
                    return "unprocessed"
            if call.op == "Query" and n == 1:
                return error_reply(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
            if call.op == "PutItem" and n == 1:
                return error_reply(500, "InternalServerError", "Internal server error")
            if call.op == "UpdateItem" and n == 0:
                return Reply(503, b"Service Unavailable")
            return None
        self.proxy.fault = fault
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["inserted"], s["updated"]), ("ok", 820, 0))
        self.assertEqual(self.series(), test_run.reference(NYT, JHU))
        self.assertEqual(export(self.db), test_run.as_export(test_run.reference(NYT, JHU)))

        batches = self.proxy.calls("BatchWriteItem")
        answers = [c.answer for c in batches]
        self.assertGreaterEqual(answers.count("ProvisionedThroughputExceededException"), 10)
        self.assertGreaterEqual(sum(a.startswith("unprocessed") for a in answers), 10)
        others = {c.answer for c in self.proxy.calls() if c.op != "BatchWriteItem"}
        self.assertTrue({"ThrottlingException", "InternalServerError", "503"} <= others, others)
        # Every date reached dynalite exactly once, and what came back unprocessed is exactly what
        # was sent next (the throttled attempt in between carries the same items).
        dates = [d for c in batches for d in data_dates(c, self.table)]
        self.assertEqual(sorted(dates), sorted(test_run.reference(NYT, JHU)))
        for i, c in enumerate(batches):
            if c.answer.startswith("unprocessed"):
                writes = [w for ws in c.body["RequestItems"].values() for w in ws]
                resent = [w for ws in batches[i + 1].body["RequestItems"].values() for w in ws]
                self.assertEqual(resent, writes[len(writes) // 2:])
                self.assertLessEqual(len(writes), 25)
        self.assertEqual(history(self.db)[0]["status"], "ok")

    def test_another_error_fails_the_run_and_the_next_run_repairs_it(self):
        def fault(call, n):
            if call.op == "BatchWriteItem" and n == 5:
                return error_reply(400, "ValidationException", "Item size has exceeded the maximum allowed size")
            return None
        self.proxy.fault = fault
        code, s, err = run_json(self.db)
        self.assertEqual(code, 4, err)
        self.assertEqual((s["status"], s["stage"]), ("failed", "load"))
        self.assertIn("ValidationException", s["message"])
        self.assertIn("Item size has exceeded", s["message"])
        self.assertEqual(len([c for c in self.proxy.calls("BatchWriteItem") if self.table in c.tables()]), 6)  # not retried
        self.assertEqual(len(self.scan(self.table)), 5 * 25)  # what went before stays
        self.assertEqual((history(self.db)[0]["status"], history(self.db)[0]["stage"]), ("failed", "load"))
        self.assertEqual(self.meta("lock"), [])  # released

        self.proxy.reset()
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["inserted"], s["updated"], s["unchanged"]), (820 - 125, 0, 125))
        self.assertEqual(export(self.db), test_run.as_export(test_run.reference(NYT, JHU)))
        self.assertEqual([r["status"] for r in history(self.db)], ["ok", "failed"])

    def test_a_run_killed_half_way_stays_running_and_the_next_run_repairs_it(self):
        proc = []

        def fault(call, n):
            if call.op == "BatchWriteItem" and n == 3:
                proc[0].kill()
                proc[0].wait(timeout=30)
                return Reply(500, b"")
            return None
        self.proxy.fault = fault
        proc.append(subprocess.Popen([BIN, "run", "--json", "--db", self.db, "--nyt", NYT, "--jhu", JHU],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        out, err = proc[0].communicate(timeout=120)
        self.assertEqual(proc[0].returncode, -9, err)
        for secret in SECRETS.values():
            self.assertNotIn(secret, out + err)
        self.assertEqual(len(self.scan(self.table)), 3 * 25)
        [run] = history(self.db)
        self.assertEqual((run["status"], run["finished_at"]), ("running", None))
        self.assertEqual(self.meta("source"), [])  # saved only with a complete run
        [lock] = self.meta("lock")  # left behind, with its lease

        self.proxy.reset()
        config = self.write("lock.toml", "[load]\nlock_timeout_ms = 300\n")
        code, s, err = run_json(self.db, NYT, JHU, "--config", config)
        self.assertEqual(code, 4, err)
        self.assertIn("locked by another run", s["message"])
        self.assertIn(lock["holder"], s["message"])
        self.assertEqual(self.data_writes(), [])

        # Once the lease is over (made so here rather than waited for), the next run takes the lock
        # and writes what the dead run did not.
        self.aws.update_item(TableName=self.meta_table, Key={"pk": {"S": "lock"}, "sk": {"S": "run"}},
                             UpdateExpression="SET lease_until = :t",
                             ExpressionAttributeValues={":t": {"N": str(int(time.time() * 1000) - 1)}})
        code, s, err = run_json(self.db, NYT, JHU, "--config", config)
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["inserted"], s["updated"], s["unchanged"]), ("ok", 820 - 75, 0, 75))
        self.assertEqual(export(self.db), test_run.as_export(test_run.reference(NYT, JHU)))
        self.assertEqual([r["status"] for r in history(self.db)], ["ok", "failed", "running"])
        self.assertEqual(self.meta("lock"), [])


# --- the same answers as SQLite -----------------------------------------------------------------

class SameAsSqlite(test_run.SameAnswersAsSqlite, OnDynamoRun):
    def test_export_and_history_match_sqlite_byte_for_byte(self):
        self.assert_same_answers_as_sqlite()
        revisions = self.meta("revision")
        self.assertEqual(len(revisions), 5)
        self.assertEqual({r["new_deaths"] - r["old_deaths"] for r in revisions}, {11})


# --- serve: the locations, derived from the data table ------------------------------------------

class ServeOnDynamo(OnDynamoRun):
    def test_locations_come_from_the_data_table_and_any_series_is_served(self):
        # A few states for a few weeks (BatchWriteItem through the checking proxy is slow).
        states = self.path("states.csv")
        with open(os.path.join(etl.SHARED, "nyt", "us-states.csv"), newline="") as f, \
                open(states, "w", newline="") as out:
            lines = f.readlines()
            out.write(lines[0])
            out.writelines(l for l in lines[1:] if l.split(",")[2].zfill(2) in ("6", "06", "36", "72")
                           and l < "2020-04-01")
        code, summary, err = run_json(self.db, NYT, JHU, "--states", states)
        self.assertEqual(code, 0, err)
        self.proxy.reset()
        p = subprocess.Popen([BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is not None or (p.terminate(), p.communicate(timeout=30)))
        line = p.stdout.readline()
        m = re.search(r"listening on (http://\S+/)", line)
        self.assertIsNotNone(m, line)
        base = m.group(1)

        def get(path):
            with urllib.request.urlopen(base + path, timeout=30) as r:
                return json.loads(r.read())

        self.assertEqual(get("api/v1/series")["count"], 820)
        self.assertNotIn("Scan", {c.op for c in self.proxy.calls()})  # nothing scanned for the nation
        found = get("api/v1/locations")
        self.assertEqual([(l["id"], l["type"], l["name"]) for l in found["locations"]],
                         [("US", "nation", "United States"), ("06", "state", "06"), ("36", "state", "36"),
                          ("72", "state", "72")])
        self.assertEqual(get("api/v1/locations?q=3")["locations"][0]["id"], "36")
        s = get("api/v1/series?location=06")
        want = list(csv.DictReader(io.StringIO(export(self.db, "--location", "06"))))
        self.assertEqual((s["date"], s["cases"]), ([r["date"] for r in want], [int(r["cases"]) for r in want]))
        self.assertEqual(get("api/v1/states")["count"], 3)
        with self.assertRaises(urllib.error.HTTPError) as unknown:
            get("api/v1/series?location=48")
        self.assertEqual(unknown.exception.code, 400)
        scans = [c for c in self.proxy.calls() if c.op == "Scan"]
        self.assertEqual(len(scans), 1)  # once for this version of the data
        self.assertEqual(self.data_writes(), [])
        p.terminate()
        p.communicate(timeout=30)


class DaemonOnDynamo(OnDynamoRun):
    def test_a_run_is_read_by_its_key(self):
        code, summary, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        config = self.write("covid-etl.toml", f'[sources]\nnyt = "{NYT}"\njhu = "{JHU}"\n'
                                              f'[schedule]\ncron = "0 0 1 1 *"\n')
        d = test_daemon.Daemon(self, config)  # the last run is recent: no catch-up run
        self.proxy.reset()
        code, doc = d.request(f"/api/v1/runs/{summary['run_id']}")
        self.assertEqual(code, 200, doc)
        self.assertEqual((doc["run_id"], doc["status"], doc["inserted"]), (summary["run_id"], "ok", 820))
        self.assertEqual(d.request("/api/v1/runs/99")[0], 404)
        # One GetItem on each run's item.
        runs = [c.body["Key"]["sk"]["S"] for c in self.proxy.calls("GetItem") if c.body["Key"]["pk"]["S"] == "run"]
        self.assertEqual(runs, [padded(summary["run_id"]), padded(99)])
        self.assertEqual(d.stop(), 0)


# --- counties at scale: date digests keep the load small -----------------------------------------

GEN = os.path.join(os.path.dirname(etl.SHARED), "tools", "gen-nyt-like")
PEAK_RSS_LIMIT_KB = 64 * 1024
COUNTIES_ONLY = "[datasets]\nnational = false\nstates = false\nworld = false\n"


def build_dir():
    """The build folder of the binary under test (CTest's launcher is build/test-bin/NAME/covid-etl)."""
    here = os.path.dirname(os.path.abspath(BIN))
    if os.path.basename(os.path.dirname(here)) == "test-bin":
        return os.path.dirname(os.path.dirname(here))
    return here


def default_county_file():
    """gen-nyt-like's county file with its default options (2,165,998 rows, 101 MB), generated once
    into <build>/bench-data as bench/counties.sh does (the same folder and marker, so each reuses
    the other's), into a temporary folder renamed when complete; one process at a time."""
    import fcntl
    data = os.path.join(build_dir(), "bench-data")
    csv_path = os.path.join(data, "us-counties.csv")
    os.makedirs(os.path.dirname(data), exist_ok=True)
    with open(data + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(os.path.join(data, "gen-args")) as f:
                same_args = f.read().strip() == ""
        except OSError:
            same_args = os.path.exists(csv_path)  # made before the marker existed: the defaults
        if same_args and os.path.exists(csv_path) and os.path.getsize(csv_path) > 0:
            return csv_path
        tmp = data + ".tmp"
        subprocess.run(["rm", "-rf", tmp], check=True)
        subprocess.run(["/usr/bin/python3", GEN, tmp], check=True, capture_output=True, timeout=600)
        with open(os.path.join(tmp, "gen-args"), "w") as f:
            f.write("\n")
        os.makedirs(data, exist_ok=True)
        for name in os.listdir(tmp):
            os.replace(os.path.join(tmp, name), os.path.join(data, name))
        os.rmdir(tmp)
        return csv_path


def under_sanitizer():
    return any(v in os.environ for v in ("ASAN_OPTIONS", "TSAN_OPTIONS"))


class DynamoCounties(OnDynamoRun):
    """County files into DynamoDB go through the date digests, as into SQLite: the rows are spooled
    date by date, never all in memory. Straight to dynalite (not through the checking proxy: some
    87,000 BatchWriteItem requests for the default file)."""

    def setUp(self):
        super().setUp()
        self.db = f"dynamodb://{self.table}?region={REGION}&endpoint={self.dynalite.url()}"
        self.config = self.write("counties.toml", COUNTIES_ONLY)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def assert_no_secret_stored(self):
        # The meta table whole; the data table's items are location, date, counts and run id only
        # (IndependentCheck), and two million of them would make a 200 MB artifact.
        dump = json.dumps(self.scan(self.meta_table, raw=True)) if self.meta_table in self.tables() else ""
        artifacts.capture("dynamodb", dump, self.meta_table + ".json")
        for name, secret in SECRETS.items():
            self.assertNotIn(secret, dump, f"{name} stored")

    def load(self, db, counties):
        """(exit status, summary, stderr, peak RSS in kB) of `run --counties FILE`, under /usr/bin/time
        (scripts/setup.sh installs it), whose own small fork is what covid-etl's peak starts from: a
        process forked from this test's Python (boto3 loaded) would count Python's pages too."""
        rss = self.path("run.rss")
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss, BIN, "run", "--json", "--config", self.config,
                            "--counties", counties, "--db", db], capture_output=True, text=True, timeout=2400,
                           env={k: v for k, v in os.environ.items() if k != "COVID_ETL_DB"})
        for secret in SECRETS.values():
            self.assertNotIn(secret, p.stdout + p.stderr)
        with open(rss) as f:
            peak_kb = int(f.read().split()[-1])
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr, peak_kb

    @staticmethod
    def sample_locations(counties):
        """A county with a FIPS code, New York City and a state's Unknown, as the file names them."""
        with open(os.path.join(os.path.dirname(counties), "us-states.csv"), newline="") as f:
            codes = {r["state"]: r["fips"].zfill(2) for r in csv.DictReader(f)}
        fips = unknown = None
        with open(counties, newline="") as f:
            for r in csv.DictReader(f):
                if fips is None and r["fips"]:
                    fips = r["fips"]
                if unknown is None and r["county"] == "Unknown" and not r["fips"]:
                    unknown = codes[r["state"]] + ":Unknown"
                if fips and unknown:
                    break
        return [fips, "36:New York City", unknown]

    def assert_same_exports_as_sqlite(self, counties, locations):
        sqlite = self.path("counties.db")
        code, s, err, _ = self.load(sqlite, counties)
        self.assertEqual(code, 0, err)
        for location in locations:
            with self.subTest(location=location):
                want = export(sqlite, "--location", location)
                self.assertGreater(len(want.splitlines()), 10)
                self.assertEqual(export(self.db, "--location", location), want)

    @unittest.skipIf(under_sanitizer(), "a sanitizer's shadow memory makes a peak RSS meaningless")
    def test_the_default_county_file_loads_within_64_mb(self):
        counties = default_county_file()
        started = time.monotonic()
        code, s, err, peak_kb = self.load(self.db, counties)
        took = time.monotonic() - started
        self.assertEqual(code, 0, err)
        print(f"\nDynamoCounties: {s['levels']['county']['inserted']} county rows into dynalite in {took:.0f} s, "
              f"peak RSS {peak_kb / 1024:.1f} MB", file=sys.stderr)
        self.assertEqual((s["status"], s["levels"]["county"]["inserted"]), ("ok", 2165998))
        self.assertLessEqual(peak_kb, PEAK_RSS_LIMIT_KB)  # a bound on memory, not on time
        # The digests are in the meta table, one a date, written after the data they describe.
        with open(counties) as f:
            next(f)
            dates = {line[:10] for line in f}
        digests = self.meta("digest#county")
        self.assertEqual(sorted(d["sk"] for d in digests), sorted(dates))
        self.assertEqual(sum(d["rows"] for d in digests), 2165998)
        self.assertEqual(self.meta("digests"), [{"pk": "digests", "sk": "county", "run_id": s["run_id"]}])
        self.assertEqual(self.meta("schema"), [{"pk": "schema", "sk": "version", "version": 2}])
        self.assert_same_exports_as_sqlite(counties, self.sample_locations(counties))

    def test_a_rerun_changes_nothing_and_a_new_day_inserts_only_that_day(self):
        gen = self.path("gen")
        subprocess.run(["/usr/bin/python3", GEN, gen, "--counties", "300", "--days", "60"], check=True,
                       capture_output=True, timeout=120)
        full = os.path.join(gen, "us-counties.csv")
        with open(full) as f:
            lines = f.readlines()
        last = lines[-1].split(",", 1)[0]
        day = [l for l in lines[1:] if l.startswith(last + ",")]
        before = self.write("minus-last-day.csv", "".join(l for l in lines if not l.startswith(last + ",")))

        code, s, err, _ = self.load(self.db, before)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["levels"]["county"]["inserted"], len(lines) - 1 - len(day))
        code, s, err, _ = self.load(self.db, full)  # the source gained one day
        self.assertEqual(code, 0, err)
        county = s["levels"]["county"]
        self.assertEqual((s["status"], county["inserted"], county["updated"], county["missing"]),
                         ("ok", len(day), 0, 0))
        self.assertEqual(s["inserted"], len(day))
        self.assertEqual({i["run_id"] for i in self.scan(self.table) if i["date"] == last}, {s["run_id"]})
        self.assertEqual(len([i for i in self.scan(self.table) if i["run_id"] == s["run_id"]]), len(day))
        self.assertEqual(len(self.meta("digest#county")), 60)

        code, s, err, _ = self.load(self.db, full)  # identical
        self.assertEqual(code, 0, err)
        self.assertEqual((s["status"], s["inserted"], s["updated"]), ("unchanged", 0, 0))
        self.assert_same_exports_as_sqlite(full, self.sample_locations(full))


# --- signatures and credentials -----------------------------------------------------------------

class Signature(OnDynamoRun):
    def test_every_request_is_signed_and_botocore_agrees(self):
        code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        calls = self.proxy.calls()
        self.assertGreater(len(calls), 40)  # 33 batches of 25, and the rest
        self.assertEqual({c.sig for c in calls}, {"ok"})
        for c in calls:
            self.assertEqual(c.headers["content-type"], "application/x-amz-json-1.0")
            self.assertEqual(c.headers["x-amz-target"], "DynamoDB_20120810." + c.op)
            self.assertTrue(c.headers.get("x-amz-security-token") == SECRETS["AWS_SESSION_TOKEN"],
                            "X-Amz-Security-Token is not the session token")  # (no secret in a failure message)
            self.assertTrue({"host", "x-amz-date", "x-amz-target", "x-amz-security-token", "content-type"}
                            <= set(signed_headers(c)), signed_headers(c))
            self.assertIn(f"/{REGION}/dynamodb/aws4_request", c.headers["authorization"])
        self.assertEqual({c.op for c in calls} >= {"DescribeTable", "CreateTable", "BatchWriteItem", "Query",
                                                    "UpdateItem", "PutItem", "DeleteItem", "GetItem"}, True)

    def test_a_wrong_secret_is_refused_and_nothing_secret_is_shown(self):
        code, s, err = run_json(self.db, env={"AWS_SECRET_ACCESS_KEY": "fake-wrong-secret-0451"})
        self.assertEqual(code, 4, err)
        self.assertIn("InvalidSignatureException", s["message"])
        self.assertEqual({c.sig for c in self.proxy.calls()}, {"signature mismatch"})
        self.assertEqual(len(self.proxy.calls()), 1)  # not retried
        self.assertNotIn("fake-wrong-secret-0451", err + json.dumps(s))

    def test_an_error_that_quotes_the_credentials_is_scrubbed(self):
        # AWS's signature errors quote the canonical request, security token included.
        def fault(call, n):
            return error_reply(400, "UnrecognizedClientException", "The security token included in the request is "
                               f"invalid: {SECRETS['AWS_SESSION_TOKEN']} for {SECRETS['AWS_ACCESS_KEY_ID']} "
                               f"({SECRETS['AWS_SECRET_ACCESS_KEY']})")
        self.proxy.fault = fault
        code, s, err = run_json(self.db)  # checked_cli: no secret in the output
        self.assertEqual(code, 4, err)
        self.assertIn("UnrecognizedClientException", s["message"])
        self.assertIn("invalid: *** for ***", s["message"])

    def test_without_a_session_token_none_is_sent(self):
        env = {k: v for k, v in os.environ.items() if k != "AWS_SESSION_TOKEN"}
        with mock.patch.dict(os.environ, env, clear=True):
            code, s, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        self.assertEqual({c.sig for c in self.proxy.calls()}, {"ok"})
        self.assertFalse(any("x-amz-security-token" in c.headers for c in self.proxy.calls()))


class SourceStates(test_run.SourceStates, OnDynamoRun):
    def put_source_state(self, url):
        self.aws.put_item(TableName=self.meta_table, Item={
            "pk": {"S": "source"}, "sk": {"S": url}, "url": {"S": url}, "etag": {"S": '"v0"'},
            "content_hash": {"S": "xxh3-128:00"}, "bytes": {"N": "1"}, "run_id": {"N": "1"}})

    def source_urls(self):
        return sorted(i["url"] for i in self.meta("source"))


class UrlsAndCredentials(OnDynamoRun):
    def test_bad_urls_are_usage_errors(self):
        endpoint = self.proxy.url()
        bad = {f"dynamodb://ab?region={REGION}&endpoint={endpoint}": "3 to 250",
               f"dynamodb://co$vid?region={REGION}": "letters, digits",
               f"dynamodb://covid-x?region={REGION}&colour=red": "unknown parameter 'colour'",
               f"dynamodb://covid-x?region={REGION}&endpoint=ftp://127.0.0.1/": "http:// or https://",
               f"dynamodb://covid-x?region=US%20East": "bad region",
               f"dynamodb://covid-x?endpoint={endpoint}": "no region",
               "dynamodb://?region=us-east-1": "no table name"}
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
        with mock.patch.dict(os.environ, env, clear=True):
            for url, message in bad.items():
                for args in (["run", "--nyt", NYT, "--jhu", JHU], ["export"], ["history"]):
                    with self.subTest(url=url, command=args[0]):
                        p = cli(*args, "--db", url)
                        self.assertEqual(p.returncode, 64, p.stderr)
                        self.assertIn(message, p.stderr)
        self.assertEqual([c.op for c in self.proxy.calls()], [])

    def test_the_region_may_come_from_the_environment(self):
        url = f"dynamodb://{self.table}?endpoint={self.proxy.url()}"
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            others = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
            with mock.patch.dict(os.environ, {**others, name: REGION}, clear=True):
                code, s, err = run_json(url)
                self.assertEqual(code, 0, err)
        self.assertEqual({c.sig for c in self.proxy.calls()}, {"ok"})  # signed for that region
        self.assertEqual(len(history(self.db)), 2)

    def test_missing_credentials_are_named_and_nothing_is_sent(self):
        for missing in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env = {k: v for k, v in os.environ.items() if k != missing}
            with mock.patch.dict(os.environ, env, clear=True):
                code, s, err = run_json(self.db)
                self.assertEqual(code, 4, err)
                self.assertIn(f"{missing} is not set", s["message"])
                p = cli("export", "--db", self.db)
                self.assertEqual(p.returncode, 4)
                self.assertIn(f"{missing} is not set", p.stderr)
        self.assertEqual([c.op for c in self.proxy.calls()], [])

    def test_reading_tables_that_do_not_exist_creates_nothing(self):
        for args in (["export"], ["history"]):
            p = cli(*args, "--db", self.db)
            self.assertEqual(p.returncode, 4, p.stderr)
            self.assertIn("no covid-etl data", p.stderr)
            self.assertIn(self.table, p.stderr)
        self.assertEqual({c.op for c in self.proxy.calls()}, {"DescribeTable"})
        self.assertFalse(self.store_exists())

    def test_a_table_of_another_application_is_never_written(self):
        self.aws.create_table(TableName=self.table, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        time.sleep(0.3)  # dynalite: CREATING for 100 ms
        code, s, err = run_json(self.db)
        self.assertEqual(code, 4, err)
        self.assertIn("is not covid-etl's", s["message"])
        self.assertEqual(self.scan(self.table), [])
        self.assertEqual(self.data_writes(), [])


# --- the outbox -------------------------------------------------------------------------------

class Outbox(OnDynamoRun):
    def configure(self, port):
        self.config = self.write("notify.toml", "[notifications]\nretries = 0\nbackoff_ms = 10\n\n"
                                 f'[[notify]]\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/hook"\n')

    def outbox(self):
        p = cli("notify", "--config", self.config, "--db", self.db, "--list", "--all", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_pending_messages_are_leased_so_concurrent_flushes_never_send_twice(self):
        hook = HttpFixture().start()
        self.addCleanup(hook.stop)
        up = threading.Event()
        hook.plan("/hook", lambda request: Reply(200, b"ok") if up.is_set() else Reply(503, b"down"))
        self.configure(hook.port)
        for nyt in (test_run.write_nyt(self.path("part.csv"), read_csv(NYT)[:400]), NYT):
            code, s, err = run_json(self.db, nyt, JHU, "--config", self.config)
            self.assertEqual(code, 0, err)
        # Run 1's message was tried by both runs, run 2's by run 2; both wait for the next flush.
        self.assertEqual([(m["run_id"], m["status"], m["attempts"]) for m in self.outbox()],
                         [(2, "pending", 1), (1, "pending", 2)])
        self.assertIn("HTTP 503", self.outbox()[0]["last_error"])

        up.set()
        hook.clear_requests()
        flushes = [subprocess.Popen([BIN, "notify", "--flush", "--json", "--config", self.config, "--db", self.db],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        results = [p.communicate(timeout=60) for p in flushes]
        for out, err in results:
            for secret in SECRETS.values():
                self.assertNotIn(secret, out + err)
        self.assertEqual(sum(json.loads(out)["delivered"] for out, _ in results), 2, results)
        posts = hook.requests_for("/hook")
        self.assertEqual(sorted(json.loads(p.body)["run_id"] for p in posts), [1, 2])  # each once
        messages = self.outbox()
        self.assertEqual([(m["run_id"], m["status"], m["attempts"], m["last_error"]) for m in messages],
                         [(2, "delivered", 2, None), (1, "delivered", 3, None)])
        self.assertTrue(all(m["delivered_at"] for m in messages))
        self.assertTrue(all("lease_until" not in i for i in self.meta("outbox")))
        p = cli("notify", "--config", self.config, "--db", self.db, "--list", "--json")
        self.assertEqual(json.loads(p.stdout), [])  # nothing pending or failed


if __name__ == "__main__":
    unittest.main()
