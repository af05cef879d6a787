"""Extraction over real HTTP: covid-etl against a scripted server on 127.0.0.1 (httpfixture).

Covers conditional GET (ETag / Last-Modified, 304 from one or both sources), retries with backoff
on transient failures only (5xx, 429, dropped connections, timeouts), the size limit, gzip, an
HTML error page served with 200, and connection refused. Every failing run must leave the
database as it was: `export` is compared byte for byte before and after. SourceSecurity: secrets
in source URLs, the redirect policy and error bodies (issue 15).

Env: COVID_ETL_BIN (default <repo>/build/covid-etl), COVID_ETL_SHARED_DATA (default
<repo>/../shared/data). Run: python3 -m unittest -v test_http
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.parse
from pathlib import Path

import artifacts
import fake_secrets
from httpfixture import HttpFixture, Reply
from test_serve import Server

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


class HttpTest(unittest.TestCase):
    """A scratch folder, a database in it and a scripted server; the helpers below."""

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


class HttpExtraction(HttpTest):
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



class SourceSecurity(HttpTest):
    """Issue 15: nothing leaked, nothing let in.

    A source URL's user info and secret-looking query values (?token=, X-Amz-Signature, ...) are
    never stored (source_state, runs), printed, sent or served: they are shown as ***, and the
    conditional GET state is kept under that redacted URL. Redirects go only to http(s), at most
    5, and to a loopback or private address only with [extract] allow_private_targets = true. An
    HTTP error is reported by status, type and size, never by its body.
    """

    LEAKS = (fake_secrets.SOURCE_URL_PASSWORD, fake_secrets.SOURCE_URL_TOKEN,
             fake_secrets.INTERNAL_BODY_MARKER)

    def run_cli(self, nyt, jhu=None, **extract):
        """One `run --json`: (completed process, summary)."""
        cfg = self.tmp / "covid-etl.toml"
        cfg.write_text("[extract]\n" + "".join(
            f"{k} = {v}\n" for k, v in {**EXTRACT, **extract}.items()))
        p = self.cli("run", "--json", "--config", str(cfg), "--db", self.db, "--nyt", nyt,
                     "--jhu", jhu or self.server.url(JHU))
        return p, json.loads(p.stdout)

    def assert_nothing_leaked(self, *texts):
        for text in texts:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            for secret in self.LEAKS:
                for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
                    self.assertNotIn(form, text)

    def database_text(self):
        con = sqlite3.connect(self.db)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    def served(self):
        """/api/v1/runs and /api/v1/summary as served by `covid-etl serve` on the database."""
        server = Server(self.db)
        try:
            bodies = [server.request(path)[2] for path in ("/api/v1/runs", "/api/v1/summary")]
        finally:
            server.stop()
        for body, name in zip(bodies, ("runs", "summary")):
            artifacts.capture("api", body, name)  # secrets.scan reads the API's answers too
        return [b.decode() for b in bodies]

    def everything_shown(self, *processes):
        texts = [p.stdout + p.stderr for p in processes]
        for args in (["history", "--json"], ["history"]):
            p = self.cli(*args, "--db", self.db)
            self.assertEqual(p.returncode, 0, p.stderr)
            texts.append(p.stdout + p.stderr)
        return texts + [self.database_text()] + self.served()

    # -- credentials and tokens in a source URL --------------------------------------------

    def test_credentials_and_tokens_in_a_source_url_are_never_kept_or_shown(self):
        password = urllib.parse.quote(fake_secrets.SOURCE_URL_PASSWORD, safe="")
        query = f"?token={fake_secrets.SOURCE_URL_TOKEN}&day=1"
        nyt = f"http://etl:{password}@127.0.0.1:{self.server.port}{NYT}{query}"
        self.server.plan(NYT + query, Reply(200, NYT_BYTES, dict(VALIDATORS[NYT])))
        self.server.plan(JHU, ok(JHU))
        first, summary = self.run_cli(nyt)
        self.assert_ok(first.returncode, summary, inserted=NYT_ROWS)
        shown = f"http://***@127.0.0.1:{self.server.port}{NYT}?token=***&day=1"
        self.assertEqual(self.source(summary, "nyt")["url"], shown)
        # The server did get the credentials: they are used, only never shown.
        [request] = self.server.requests_for(NYT + query)
        self.assertTrue(request.headers.get("authorization", "").startswith("Basic "))

        # A signed URL changes its token every day: the state is kept under the redacted URL,
        # so the next run still asks conditionally.
        query2 = "?token=second-t0ken-9f8e7d&day=1"
        self.server.plan(NYT + query2, Reply(304))
        self.server.plan(JHU, Reply(304))
        second, summary2 = self.run_cli(nyt.replace(query, query2))
        self.assertEqual((second.returncode, summary2["status"]), (0, "unchanged"), summary2)
        [conditional] = self.server.requests_for(NYT + query2)
        self.assertEqual(conditional.headers.get("if-none-match"), VALIDATORS[NYT]["ETag"])

        con = sqlite3.connect(self.db)
        urls = [u for (u,) in con.execute("SELECT url FROM source_state ORDER BY url")]
        con.close()
        self.assertIn(shown, urls)
        texts = self.everything_shown(first, second)
        self.assert_nothing_leaked(*texts)
        self.assertNotIn("second-t0ken-9f8e7d", "".join(t if isinstance(t, str) else t.decode() for t in texts))

    def test_a_source_state_kept_under_a_url_with_a_secret_is_removed(self):
        # A database written before states were keyed by the redacted URL holds the full one.
        self.server.plan(NYT, ok(NYT))
        self.server.plan(JHU, ok(JHU))
        self.assert_ok(*self.etl(), inserted=NYT_ROWS)
        old = "old-t0ken-c3a9e1f7"
        nyt = f"{self.server.url(NYT)}?token={old}"
        con = sqlite3.connect(self.db)
        con.execute("INSERT INTO source_state (url, etag, last_modified, content_hash, bytes, run_id) "
                    "VALUES (?, '\"nyt-v1\"', NULL, 'xxh3-128:00', 1, 1)", (nyt,))
        con.commit()
        con.close()
        self.server.plan(f"{NYT}?token={old}", ok(NYT))
        p, summary = self.run_cli(nyt)
        self.assertEqual(p.returncode, 0, summary)
        con = sqlite3.connect(self.db)
        urls = [u for (u,) in con.execute("SELECT url FROM source_state")]
        con.close()
        self.assertIn(f"{self.server.url(NYT)}?token=***", urls)
        self.assertFalse([u for u in urls if old in u], urls)
        # Not left in a free page of the file either (secure_delete on that row).
        for suffix in ("", "-wal"):
            if os.path.exists(self.db + suffix):
                self.assertNotIn(old.encode(), Path(self.db + suffix).read_bytes(), suffix)

    # -- redirects ---------------------------------------------------------------------------

    def redirect(self, path, to):
        self.server.plan(path, Reply(302, b"", {"Location": to}))

    def test_a_redirect_to_a_private_address_needs_the_flag(self):
        # The source answers with a redirect to an internal address (here loopback, as a cloud
        # metadata service would be at 169.254.169.254): not followed, and not even asked.
        self.redirect(NYT, self.server.url("/internal/latest/meta-data"))
        self.server.plan("/internal/latest/meta-data", Reply(200, NYT_BYTES, dict(VALIDATORS[NYT])))
        self.server.plan(JHU, ok(JHU))
        p, summary = self.run_cli(self.server.url(NYT))
        self.assertEqual((p.returncode, summary["status"], summary["stage"]), (3, "failed", "extract"), summary)
        self.assertIn("redirected to a loopback, link-local or private address; not followed",
                      summary["message"])
        self.assertIn("allow_private_targets", summary["message"])
        self.assertEqual(self.server.requests_for("/internal/latest/meta-data"), [])
        self.assertEqual(self.attempts(NYT), 1)  # not retried

        p, summary = self.run_cli(self.server.url(NYT), allow_private_targets="true")
        self.assert_ok(p.returncode, summary, inserted=NYT_ROWS)
        self.assertEqual(len(self.server.requests_for("/internal/latest/meta-data")), 1)

    def test_more_than_five_redirects_are_not_followed(self):
        hops = [f"/hop/{i}" for i in range(7)]
        self.redirect(NYT, self.server.url(hops[0]))
        for here, there in zip(hops, hops[1:]):
            self.redirect(here, self.server.url(there))
        self.server.plan(hops[-1], ok(NYT))
        self.server.plan(JHU, ok(JHU))
        p, summary = self.run_cli(self.server.url(NYT), allow_private_targets="true")
        self.assertEqual((p.returncode, summary["status"]), (3, "failed"), summary)
        self.assertIn("redirect", summary["message"].lower())
        self.assertEqual(len(self.server.requests_for(hops[4])), 1)  # the fifth redirect
        self.assertEqual(self.server.requests_for(hops[5]), [])

    def test_a_redirect_to_another_scheme_is_not_followed(self):
        self.server.plan(JHU, ok(JHU))
        for target in ("file:///etc/passwd", f"ftp://127.0.0.1:{self.server.port}/us.csv",
                       f"gopher://127.0.0.1:{self.server.port}/_x"):
            with self.subTest(target=target):
                self.redirect(NYT, target)
                p, summary = self.run_cli(self.server.url(NYT), allow_private_targets="true")
                self.assertEqual((p.returncode, summary["status"]), (3, "failed"), summary)
                self.assertNotIn(b"root:", p.stdout + p.stderr)

    # -- error bodies ------------------------------------------------------------------------

    def test_an_error_body_is_never_quoted(self):
        # What an internal service answered (after a redirect the flag allowed, or a proxy's
        # page) once went into the run's error, served to anyone by /api/v1/runs.
        body = (b"<html><body>ami-id\n" + fake_secrets.INTERNAL_BODY_MARKER.encode() +
                b"\n</body></html>\n")
        self.redirect(NYT, self.server.url("/internal"))
        self.server.plan("/internal", Reply(500, body, {"Content-Type": "text/html; charset=utf-8"}))
        self.server.plan(JHU, ok(JHU))
        p, summary = self.run_cli(self.server.url(NYT), allow_private_targets="true")
        self.assertEqual((p.returncode, summary["status"]), (3, "failed"), summary)
        self.assertIn(f"HTTP 500 (text/html; charset=utf-8, {len(body)} bytes)", summary["message"])
        self.assert_nothing_leaked(*self.everything_shown(p))

    def test_error_bodies_go_to_the_local_log_only_when_asked(self):
        marker = b"debug-only-body-2c7f"
        self.server.plan(NYT, Reply(404, b"not here: " + marker, {"Content-Type": "text/plain"}))
        self.server.plan(JHU, ok(JHU))
        p, summary = self.run_cli(self.server.url(NYT))
        self.assertNotIn(marker, p.stdout + p.stderr)
        p, summary = self.run_cli(self.server.url(NYT), log_error_bodies="true")
        self.assertEqual(summary["status"], "failed")
        self.assertIn(marker, p.stderr)  # the local log
        self.assertNotIn(marker, p.stdout)  # not the summary
        self.assertNotIn(marker.decode(), summary["message"])
        self.assertNotIn(marker.decode(), json.dumps(self.history()))


if __name__ == "__main__":
    unittest.main()
