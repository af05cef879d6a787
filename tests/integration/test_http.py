"""Extraction over real HTTP: covid-etl against a scripted server on 127.0.0.1 (httpfixture).

Covers conditional GET (ETag / Last-Modified, 304 from one or both sources), retries with backoff
on transient failures only (5xx, 429, dropped connections, timeouts), the size limit, gzip, an
HTML error page served with 200, and connection refused. Every failing run must leave the
database as it was: `export` is compared byte for byte before and after.

Env: COVID_ETL_BIN (default <repo>/build/covid-etl), COVID_ETL_SHARED_DATA (default
<repo>/../shared/data). Run: python3 -m unittest -v test_http
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from httpfixture import HttpFixture, Reply

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("COVID_ETL_BIN", str(REPO / "build" / "covid-etl"))
DATA = Path(os.environ.get("COVID_ETL_SHARED_DATA", str(REPO.parent / "shared" / "data")))
NYT_FILE = DATA / "nyt" / "us.csv"
JHU_FILE = DATA / "jhu" / "time-series-19-covid-combined.csv"
NYT_BYTES = NYT_FILE.read_bytes()
JHU_BYTES = JHU_FILE.read_bytes()
NYT_ROWS = 820

NYT, JHU = "/nyt/us.csv", "/jhu/time-series-19-covid-combined.csv"
VALIDATORS = {
    NYT: {"ETag": '"nyt-v1"', "Last-Modified": "Tue, 19 Apr 2022 12:00:00 GMT"},
    JHU: {"ETag": '"jhu-v1"', "Last-Modified": "Wed, 17 Mar 2021 08:00:00 GMT"},
}
BODY = {NYT: NYT_BYTES, JHU: JHU_BYTES}

# Fast retries: 1 + 3 attempts, 10 ms base backoff.
EXTRACT = {"retries": 3, "backoff_ms": 10, "backoff_max_ms": 50,
           "connect_timeout_ms": 2000, "timeout_ms": 20000}


def ok(path, **kw):
    """A 200 with the real data of `path` and its ETag / Last-Modified."""
    return Reply(200, BODY[path], dict(VALIDATORS[path]), **kw)


def body_hash(source):
    """The body's content hash (the field was sha256, now content_hash with its algorithm)."""
    return source.get("content_hash", source.get("sha256"))


def free_port():
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpExtraction(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.mkdtemp(prefix="covid-etl-http-")
        self.addCleanup(shutil.rmtree, tmp)
        self.tmp = Path(tmp)
        self.db = str(self.tmp / "covid.db")
        self.server = HttpFixture().start()
        self.addCleanup(self.server.stop)

    # -- helpers ---------------------------------------------------------------------------

    def cli(self, *args):
        return subprocess.run([BIN, *args], capture_output=True, timeout=120)

    def etl(self, nyt=None, jhu=None, **extract):
        """One `run --json` (sources default to the server); returns (exit code, summary)."""
        cfg = self.tmp / "covid-etl.toml"
        cfg.write_text("[extract]\n" + "".join(
            f"{k} = {v}\n" for k, v in {**EXTRACT, **extract}.items()))
        p = self.cli("run", "--json", "--config", str(cfg), "--db", self.db,
                     "--nyt", nyt or self.server.url(NYT), "--jhu", jhu or self.server.url(JHU))
        try:
            summary = json.loads(p.stdout)
        except ValueError:
            self.fail(f"exit {p.returncode}, no JSON summary; stdout={p.stdout!r} stderr={p.stderr!r}")
        return p.returncode, summary

    def export(self):
        p = self.cli("export", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def history(self):
        p = self.cli("history", "--db", self.db, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def source(self, summary, name):
        return next(s for s in summary["sources"] if s["name"] == name)

    def assert_ok(self, code, summary, inserted=None):
        self.assertEqual((code, summary["status"]), (0, "ok"), summary)
        if inserted is not None:
            self.assertEqual(summary["inserted"], inserted)

    def load_files(self):
        """Loads the real data straight from the files (not over HTTP): (export, {source: hash})."""
        code, summary = self.etl(nyt=str(NYT_FILE), jhu=str(JHU_FILE))
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        exported = self.export()
        self.assertEqual(exported.count(b"\n"), NYT_ROWS + 1)
        return exported, {s["name"]: body_hash(s) for s in summary["sources"]}

    def load_baseline(self):
        return self.load_files()[0]

    def reference(self):
        """load_files() into a scratch database, leaving self.db alone."""
        db, self.db = self.db, str(self.tmp / "reference.db")
        try:
            return self.load_files()
        finally:
            self.db = db

    def assert_failed(self, before, exit_code, stage="extract", **extract):
        """Runs against the server as planned: fails with exit_code and changes nothing."""
        code, summary = self.etl(**extract)
        self.assertEqual(code, exit_code, summary)
        self.assertEqual((summary["status"], summary["stage"]), ("failed", stage), summary)
        self.assertEqual((summary["inserted"], summary["updated"]), (0, 0))
        self.assertEqual(self.export(), before, "a failed run changed the database")
        self.assertEqual(self.history()[0]["status"], "failed")
        return summary

    def attempts(self, path):
        return len(self.server.requests_for(path))

    # -- conditional GET -------------------------------------------------------------------

    def test_etag_then_304_for_both_is_unchanged(self):
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, ok(JHU))
        code, first = self.etl()
        self.assert_ok(code, first, inserted=NYT_ROWS)
        self.assertEqual(self.source(first, "nyt")["etag"], VALIDATORS[NYT]["ETag"])
        for path in (NYT, JHU):  # the first run had nothing to send
            self.assertNotIn("if-none-match", self.server.requests_for(path)[0].headers)
        loaded = self.export()

        self.server.clear_requests()
        self.server.plan(NYT, Reply(304))
        self.server.plan(JHU, Reply(304))
        code, second = self.etl()
        self.assertEqual((code, second["status"]), (0, "unchanged"), second)
        for path, name in ((NYT, "nyt"), (JHU, "jhu")):
            [request] = self.server.requests_for(path)  # one request each: no re-fetch
            self.assertEqual(request.headers.get("if-none-match"), VALIDATORS[path]["ETag"])
            self.assertEqual(request.headers.get("if-modified-since"), VALIDATORS[path]["Last-Modified"])
            src = self.source(second, name)
            self.assertTrue(src["not_modified"], src)
            self.assertEqual((src["http_status"], src["rows"], src["bytes"]), (304, 0, 0))
        self.assertEqual(second["inserted"] + second["updated"] + second["unchanged"], 0)
        self.assertLess(second["duration_ms"], 2000)
        self.assertEqual(self.history()[0]["status"], "unchanged")
        self.assertEqual(self.export(), loaded)

    def test_validators_that_are_not_text_are_not_kept(self):
        # A server's ETag and Last-Modified go into the run summary (JSON), the source states and
        # the next request. Bytes that are not printable ASCII (here Latin-1 and 0xFF) once made
        # the JSON writer abort every run against that server: such a validator is now ignored
        # (the source is fetched in full each time), and the run goes on.
        bad = {"ETag": '"v\xff\xfe1"', "Last-Modified": "Tue, 19 Apr 2022 12:00:00 GMT\xe9"}
        self.server.plan(NYT, Reply(200, NYT_BYTES, bad))
        self.server.plan(JHU, ok(JHU))
        for run in range(2):
            code, summary = self.etl()
            self.assertEqual(code, 0, summary)
            src = self.source(summary, "nyt")
            self.assertEqual((src["etag"], src["last_modified"]), (None, None), src)
            self.assertEqual(self.source(summary, "jhu")["etag"], VALIDATORS[JHU]["ETag"])
            request = self.server.requests_for(NYT)[-1]
            self.assertNotIn("if-none-match", request.headers)
            self.assertNotIn("if-modified-since", request.headers)
        self.assertEqual([r["status"] for r in self.history()], ["unchanged", "ok"])

    def test_one_304_is_fetched_again_unconditionally(self):
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, ok(JHU))
        self.assert_ok(*self.etl(), inserted=NYT_ROWS)

        self.server.clear_requests()
        self.server.plan(NYT, Reply(304), ok(NYT))
        self.server.plan(JHU, ok(JHU))
        code, summary = self.etl()
        self.assertEqual(code, 0, summary)
        self.assertIn(summary["status"], ("ok", "unchanged"))
        self.assertEqual(summary["unchanged"], NYT_ROWS)  # same data: parsed, joined, compared
        conditional, again = self.server.requests_for(NYT)
        self.assertEqual(conditional.headers.get("if-none-match"), VALIDATORS[NYT]["ETag"])
        self.assertNotIn("if-none-match", again.headers)
        self.assertNotIn("if-modified-since", again.headers)
        self.assertEqual(self.attempts(JHU), 1)
        nyt = self.source(summary, "nyt")
        self.assertEqual((nyt["not_modified"], nyt["http_status"], nyt["rows"]), (False, 200, NYT_ROWS))

    # -- retries ---------------------------------------------------------------------------

    def test_500_then_200_is_retried(self):
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, Reply(500, b"internal error\n"), ok(JHU))
        code, summary = self.etl()
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        self.assertEqual(self.source(summary, "jhu")["attempts"], 2)
        self.assertEqual(self.source(summary, "nyt")["attempts"], 1)
        self.assertEqual((self.attempts(JHU), self.attempts(NYT)), (2, 1))

    def test_429_then_200_is_retried(self):
        self.server.plan(NYT, Reply(429, b"slow down\n", {"Retry-After": "0"}), ok(NYT))
        self.server.plan(JHU, ok(JHU))
        code, summary = self.etl()
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        self.assertEqual(self.source(summary, "nyt")["attempts"], 2)
        self.assertEqual(self.attempts(NYT), 2)

    def test_503_forever_fails_after_all_retries(self):
        before = self.load_baseline()
        self.server.plan(NYT, Reply(503, b"unavailable\n"))
        summary = self.assert_failed(before, 3)
        self.assertEqual(self.attempts(NYT), 1 + EXTRACT["retries"])
        self.assertEqual(self.attempts(JHU), 0)
        self.assertIn("503", summary["message"])

    def test_404_is_not_retried(self):
        before = self.load_baseline()
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, Reply(404, b"no such file\n"))
        summary = self.assert_failed(before, 3)
        self.assertEqual(self.attempts(JHU), 1)
        self.assertIn("404", summary["message"])

    def test_dropped_connection_then_200_is_retried(self):
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, ok(JHU, truncate_at=100_000), ok(JHU))
        code, summary = self.etl()
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        jhu = self.source(summary, "jhu")
        self.assertEqual((jhu["attempts"], jhu["bytes"]), (2, len(JHU_BYTES)))
        _, hashes = self.reference()
        self.assertEqual(body_hash(jhu), hashes["jhu"])  # the whole second body, not a mix

    def test_connection_always_dropped_fails(self):
        before = self.load_baseline()
        self.server.plan(NYT, ok(NYT, truncate_at=1000))
        self.assert_failed(before, 3)
        self.assertEqual(self.attempts(NYT), 1 + EXTRACT["retries"])

    def test_stalled_body_times_out_and_is_retried(self):
        self.server.plan(NYT, ok(NYT, stall_s=3), ok(NYT))
        self.server.plan(JHU, ok(JHU))
        code, summary = self.etl(timeout_ms=500)
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        self.assertEqual(self.attempts(NYT), 2)

    def test_connection_refused_fails(self):
        before = self.load_baseline()
        dead = f"http://127.0.0.1:{free_port()}/us.csv"
        summary = self.assert_failed(before, 3, nyt=dead)
        self.assertEqual(self.server.requests, [])

    # -- size limit, encodings, content ----------------------------------------------------

    def test_body_over_size_limit_is_not_retried(self):
        for with_length in (True, False):  # refused from the header, or aborted mid-body
            with self.subTest(content_length=with_length):
                self.db = str(self.tmp / f"limit-{with_length}.db")
                self.server.clear_requests()
                before = self.load_baseline()
                self.server.plan(NYT, ok(NYT, content_length=with_length))
                summary = self.assert_failed(before, 3, max_bytes=10000)
                self.assertIn("size limit", summary["message"])
                self.assertEqual(self.attempts(NYT), 1)

    def test_gzip_body_is_decoded(self):
        self.server.plan(NYT, ok(NYT, gzip=True))
        self.server.plan(JHU, ok(JHU, gzip=True))
        code, summary = self.etl()
        self.assert_ok(code, summary, inserted=NYT_ROWS)
        self.assertIn("gzip", self.server.requests_for(NYT)[0].headers.get("accept-encoding", ""))
        exported, hashes = self.reference()
        for name, raw in (("nyt", NYT_BYTES), ("jhu", JHU_BYTES)):
            src = self.source(summary, name)
            self.assertEqual((src["bytes"], body_hash(src)), (len(raw), hashes[name]))
        self.assertEqual(self.export(), exported)

    def test_html_with_200_is_invalid_data(self):
        before = self.load_baseline()
        page = b"<!DOCTYPE html>\n<html><body><h1>Rate limited</h1></body></html>\n"
        self.server.plan(NYT, Reply(200, page, {"Content-Type": "text/html"}))
        self.server.plan(JHU, ok(JHU))
        summary = self.assert_failed(before, 2, stage="validate")
        [error] = summary["errors"]
        self.assertIn("HTML", error["message"])
        self.assertTrue(error["file"].endswith(NYT), error)
        self.assertEqual(self.attempts(NYT), 1)


if __name__ == "__main__":
    unittest.main()
