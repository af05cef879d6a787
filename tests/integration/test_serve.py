"""The dashboard server, `covid-etl serve`: the real binary on a free port of 127.0.0.1, serving
a real SQLite database loaded from ../shared/data by `covid-etl run`, spoken to over real HTTP.

Expected values come from `covid-etl export` (the same database) and from the issue's figures;
daily values and 7-day averages are recomputed here from the exported cumulative counts.
"""
import base64
import csv
import datetime
import gzip
import hashlib
import http.client
import io
import json
import os
import queue
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from etl import BIN, JHU, NYT, SHARED, cli, export, run_json

HOST = "127.0.0.1"


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
    env.update(extra or {})
    return env


class Server:
    """A `covid-etl serve` process listening on a free port of 127.0.0.1 (it prints the port)."""

    def __init__(self, db, *extra, cwd=None):
        self.proc = subprocess.Popen([BIN, "serve", "--db", db, "--listen", f"{HOST}:0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=clean_env(), cwd=cwd)
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=20)
        except queue.Empty:
            self.kill()
            raise AssertionError("serve did not report its address within 20 s")
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.kill()
            raise AssertionError(f"unexpected first line from serve: {line!r}; stderr: {self.proc.stderr.read()}")
        self.port = int(m.group(1))

    def request(self, path, method="GET", headers=None, body=None, conn=None, timeout=10):
        """(status, headers with lower-case names, body bytes); path is sent exactly as given."""
        c = conn or http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.putrequest(method, path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def get_json(self, path, status=200):
        code, headers, body = self.request(path)
        if code != status:
            raise AssertionError(f"GET {path}: {code} (wanted {status}): {body[:300]!r}")
        if not headers.get("content-type", "").startswith("application/json"):
            raise AssertionError(f"GET {path}: content type {headers.get('content-type')}")
        return json.loads(body)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig and waits; returns (exit status, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"serve did not stop within {timeout} s of {sig.name}")
        return self.proc.returncode, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def rows_of(csv_text):
    return list(csv.DictReader(io.StringIO(csv_text)))


def count(v):
    return None if v == "" else int(v)


def load(db, nyt=NYT, jhu=JHU):
    code, summary, stderr = run_json(db, nyt, jhu)
    if code != 0:
        raise AssertionError(f"run failed ({code}): {stderr}")
    return summary


class ServerTest(unittest.TestCase):
    """One database loaded from ../shared/data and one server for the whole class."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="covid-etl-serve-")
        cls.db = os.path.join(cls.tmp, "covid.db")
        cls.summary = load(cls.db)
        cls.server = Server(cls.db)

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, True)


class ServeApi(ServerTest):
    def setUp(self):
        self.export = rows_of(export(self.db))

    def test_series_has_every_date_with_exact_values_and_nulls(self):
        s = self.server.get_json("/api/v1/series?location=US")
        self.assertEqual(len(self.export), 820)
        self.assertEqual((s["location"], s["from"], s["to"], s["count"]), ("US", "2020-01-21", "2022-04-19", 820))
        for key in ("date", "cases", "deaths", "recovered", "new_cases", "new_deaths", "new_cases_avg7",
                    "new_deaths_avg7"):
            self.assertEqual(len(s[key]), 820, key)
        self.assertEqual(s["date"], [r["date"] for r in self.export])
        self.assertEqual(s["cases"], [count(r["cases"]) for r in self.export])
        self.assertEqual(s["deaths"], [count(r["deaths"]) for r in self.export])
        self.assertEqual(s["recovered"], [count(r["recovered"]) for r in self.export])
        i = s["date"].index
        self.assertEqual(s["recovered"][i("2020-12-13")], 6298082)
        self.assertIsNone(s["recovered"][i("2020-12-14")])  # JHU stopped: unknown, not 0
        self.assertIsNone(s["recovered"][i("2020-01-21")])  # NYT only
        self.assertEqual(s["recovered"][i("2020-01-22")], 0)  # a real zero
        self.assertEqual((s["cases"][i("2021-03-16")], s["deaths"][i("2021-03-16")]), (29569140, 536491))

    def test_daily_values_and_7_day_averages(self):
        s = self.server.get_json("/api/v1/series")  # location defaults to US
        cases = [int(r["cases"]) for r in self.export]
        deaths = [int(r["deaths"]) for r in self.export]
        new_cases = [None] + [b - a for a, b in zip(cases, cases[1:])]
        new_deaths = [None] + [b - a for a, b in zip(deaths, deaths[1:])]
        self.assertEqual(s["new_cases"], new_cases)
        self.assertEqual(s["new_deaths"], new_deaths)
        i = s["date"].index
        self.assertEqual(s["new_cases"][i("2021-06-04")], 33312812 - 33336811)  # a revision: negative, kept
        self.assertLess(s["new_deaths"][i("2022-03-14")], 0)

        def avg7(daily):
            out = [None] * len(daily)
            for k in range(7, len(daily)):
                window = daily[k - 6:k + 1]
                out[k] = round(sum(window) / 7, 2)
            return out

        # The plain averages (the Times' over reports are checked in test_annotations).
        for got, want in ((s["new_cases_avg7_raw"], avg7(new_cases)), (s["new_deaths_avg7_raw"], avg7(new_deaths))):
            self.assertEqual(got[:7], [None] * 7)
            for k in range(7, len(got)):
                self.assertAlmostEqual(got[k], want[k], places=2, msg=s["date"][k])

    def test_date_ranges(self):
        s = self.server.get_json("/api/v1/series?location=US&from=2021-03-10&to=2021-03-16")
        self.assertEqual(s["date"], [f"2021-03-{d}" for d in range(10, 17)])
        self.assertEqual((s["from"], s["to"], s["count"]), ("2021-03-10", "2021-03-16", 7))
        by_date = {r["date"]: r for r in self.export}
        # The first day of a range still has its daily value: the day before is outside the range.
        self.assertEqual(s["new_cases"][0], int(by_date["2021-03-10"]["cases"]) - int(by_date["2021-03-09"]["cases"]))
        self.assertIsNotNone(s["new_cases_avg7"][0])
        self.assertEqual(self.server.get_json("/api/v1/series?from=2022-04-18")["date"], ["2022-04-18", "2022-04-19"])
        self.assertEqual(self.server.get_json("/api/v1/series?to=2020-01-22")["date"], ["2020-01-21", "2020-01-22"])
        one = self.server.get_json("/api/v1/series?from=2020-12-14&to=2020-12-14")
        self.assertEqual((one["count"], one["recovered"]), (1, [None]))
        empty = self.server.get_json("/api/v1/series?from=2019-01-01&to=2019-12-31")
        self.assertEqual((empty["count"], empty["date"], empty["cases"], empty["from"], empty["to"]), (0, [], [], None, None))
        fields = self.server.get_json("/api/v1/series?fields=cases,new_cases&to=2020-01-23")
        self.assertEqual(set(fields), {"location", "from", "to", "count", "date", "cases", "new_cases"})
        self.assertEqual(fields["new_cases"], [None, 0, 0])

    def test_export_csv_is_byte_identical_to_the_export_command(self):
        for query, args in (("", ()), ("?from=2021-03-01&to=2021-03-31", ("--from", "2021-03-01", "--to", "2021-03-31")),
                            ("?location=US&from=2022-04-01", ("--from", "2022-04-01")),
                            ("?to=2020-02-01", ("--to", "2020-02-01")),
                            ("?from=2019-01-01&to=2019-01-02", ("--from", "2019-01-01", "--to", "2019-01-02"))):
            code, headers, body = self.server.request("/api/v1/export.csv" + query)
            self.assertEqual(code, 200, query)
            self.assertEqual(body.decode(), export(self.db, *args), query)
            self.assertEqual(headers["content-type"], "text/csv; charset=utf-8")
            self.assertIn("attachment", headers["content-disposition"])

    def test_bad_parameters_answer_400_with_a_json_error(self):
        cases = {
            "/api/v1/series?from=2021-13-01": "from",
            "/api/v1/series?from=2021-1-5": "from",
            "/api/v1/series?to=20210105": "to",
            "/api/v1/series?to=2021/01/05": "to",
            "/api/v1/series?from=2020-02-30": "from",
            "/api/v1/series?from=": "from",
            "/api/v1/series?from=2021-03-02&to=2021-03-01": "after",
            "/api/v1/series?location=XX": "location",
            "/api/v1/series?location=nowhere": "location",
            "/api/v1/series?fields=cases,bogus": "bogus",
            "/api/v1/series?bogus=1": "bogus",
            "/api/v1/series?from=2021-03-01&from=2021-03-02": "more than once",
            "/api/v1/series?from=%ZZ": "percent",
            "/api/v1/export.csv?to=yesterday": "to",
            "/api/v1/export.csv?from=2021-03-02&to=2021-03-01": "after",
            "/api/v1/export.csv?fields=cases": "fields",
            "/api/v1/summary?location=XX": "location",
            "/api/v1/runs?limit=0": "limit",
            "/api/v1/runs?limit=1001": "limit",
            "/api/v1/runs?limit=ten": "limit",
            "/api/v1/runs?offset=1": "offset",
            "/healthz?verbose=1": "verbose",
            "/metrics?x=1": "x",
        }
        for path, word in cases.items():
            code, headers, body = self.server.request(path)
            self.assertEqual(code, 400, path)
            self.assertTrue(headers["content-type"].startswith("application/json"), path)
            err = json.loads(body)
            self.assertEqual((err["status"], err["error"]), (400, "bad_request"), path)
            self.assertIn(word, err["message"], path)
            self.assertEqual(headers.get("cache-control"), "no-store", path)

    def test_unknown_paths_answer_404_and_nothing_reaches_the_file_system(self):
        for path in ("/nope", "/api/v1/series/", "/api/v2/series", "/api/v1/nope", "/api/v1/", "/index.htm", "/app.js/",
                     "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                     "/%252e%252e/etc/passwd", "/static/../app.js", "//etc/passwd", "/app.js%00",
                     "/src/app.js", "/web/src/app.js", "/node_modules/uplot/dist/uPlot.min.css",
                     "/" + os.path.abspath(__file__).lstrip("/")):
            code, headers, body = self.server.request(path)
            self.assertEqual(code, 404, path)
            self.assertEqual(json.loads(body)["error"], "not_found", path)
            self.assertNotIn(b"root:", body, path)

    def test_embedded_files_are_served(self):
        for path, kind in (("/", "text/html"), ("/index.html", "text/html"), ("/app.js", "text/javascript"),
                           ("/style.css", "text/css"), ("/uPlot.iife.min.js", "text/javascript"),
                           ("/uPlot.min.css", "text/css"), ("/favicon.svg", "image/svg+xml")):
            code, headers, body = self.server.request(path)
            self.assertEqual(code, 200, path)
            self.assertTrue(headers["content-type"].startswith(kind), path)
            self.assertIn("etag", headers, path)
            self.assertGreater(len(body), 100, path)
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "web", "src", "app.js"), "rb") as f:
            self.assertEqual(self.server.request("/app.js")[2], f.read())
        # The page's own state is in its query string: any query reaches the page.
        self.assertEqual(self.server.request("/?range=90d&scale=log")[0], 200)

    def test_the_page_has_no_inline_script_and_its_only_inline_styles_are_its_stylesheets_by_hash(self):
        code, headers, body = self.server.request("/")
        html = body.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        self.assertTrue(scripts)
        for tag in scripts:
            self.assertIn("src=", tag)
        self.assertNotRegex(html, r"<script\b[^>]*>\s*[^<\s]")
        # The stylesheets are written into the page (its first frame waits for no other request),
        # each exactly the file the server also serves, and the policy allows those bytes only.
        styles = re.findall(r"<style>(.*?)</style>", html, re.S)
        files = [self.server.request(f)[2].decode() for f in ("/uPlot.min.css", "/style.css")]
        self.assertEqual(styles, files)
        self.assertNotIn("<link rel=\"stylesheet\"", html)
        self.assertEqual(html.count("<style"), 2)
        style_src = re.search(r"style-src ([^;]*)", headers["content-security-policy"]).group(1).split()
        self.assertEqual(style_src, ["'self'"] + [
            "'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in styles])
        self.assertNotRegex(html, r"\sstyle=")
        self.assertNotRegex(html, r"\son[a-z]+=")  # no inline event handlers
        # Nothing loaded from another host (links to the sources' sites are only links).
        self.assertNotRegex(html, r"<(?!a\s)[a-z]+\b[^>]*\s(src|href)=\"(https?:)?//")
        self.assertRegex(html, r"<a href=\"https://creativecommons.org/licenses/by-nc/4.0/\">")

    def test_other_methods_answer_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            for path in ("/api/v1/series", "/api/v1/runs", "/healthz", "/"):
                code, headers, body = self.server.request(path, method=method, body=b"" if method != "OPTIONS" else None)
                self.assertEqual(code, 405, (method, path))
                self.assertEqual(headers["allow"], "GET, HEAD", (method, path))
                self.assertEqual(json.loads(body)["error"], "method_not_allowed")
        code, headers, body = self.server.request("/nope", method="POST", body=b"")
        self.assertEqual(code, 404)

    def test_head_has_the_get_headers_and_no_body(self):
        for path in ("/api/v1/series", "/api/v1/export.csv", "/"):
            _, get_headers, get_body = self.server.request(path)
            code, headers, body = self.server.request(path, method="HEAD")
            self.assertEqual((code, body), (200, b""), path)
            self.assertEqual(headers["content-length"], str(len(get_body)), path)
            self.assertEqual(headers["etag"], get_headers["etag"], path)

    def test_etag_and_304(self):
        for path in ("/api/v1/series", "/api/v1/series?from=2021-01-01", "/api/v1/summary", "/api/v1/runs",
                     "/api/v1/runs?limit=5", "/api/v1/export.csv", "/api/v1/export.csv?to=2021-01-01", "/",
                     "/app.js"):
            code, headers, body = self.server.request(path)
            self.assertEqual(code, 200, path)
            etag = headers["etag"]
            self.assertRegex(etag, r'^"[0-9a-f]{16}"$', path)
            self.assertEqual(headers["cache-control"], "no-cache", path)
            self.assertEqual(self.server.request(path)[1]["etag"], etag, path)  # stable
            code, h304, body = self.server.request(path, headers={"If-None-Match": etag})
            self.assertEqual((code, body), (304, b""), path)
            self.assertEqual(h304["etag"], etag, path)
            self.assertEqual(self.server.request(path, headers={"If-None-Match": "W/" + etag})[0], 304, path)
            self.assertEqual(self.server.request(path, headers={"If-None-Match": '"x", ' + etag})[0], 304, path)
            self.assertEqual(self.server.request(path, headers={"If-None-Match": '"0000000000000000"'})[0], 200, path)
        a = self.server.request("/api/v1/series?from=2021-01-01")[1]["etag"]
        b = self.server.request("/api/v1/series?from=2021-01-02")[1]["etag"]
        self.assertNotEqual(a, b)

    def test_gzip_when_asked(self):
        _, plain_headers, plain = self.server.request("/api/v1/series")
        self.assertNotIn("content-encoding", plain_headers)
        code, headers, body = self.server.request("/api/v1/series", headers={"Accept-Encoding": "gzip, deflate, br"})
        self.assertEqual((code, headers["content-encoding"]), (200, "gzip"))
        self.assertEqual(headers["vary"], "Accept-Encoding")
        self.assertLess(len(body), len(plain) / 2)
        self.assertEqual(gzip.decompress(body), plain)
        self.assertNotEqual(headers["etag"], plain_headers["etag"])
        self.assertEqual(self.server.request("/api/v1/series", headers={"Accept-Encoding": "gzip",
                                                                         "If-None-Match": plain_headers["etag"]})[0], 304)
        for refused in ("gzip;q=0", "identity", "br", "*;q=0", "gzip;q=0, *"):
            h = self.server.request("/api/v1/series", headers={"Accept-Encoding": refused})[1]
            self.assertNotIn("content-encoding", h, refused)
        for accepted in ("*", "GZIP", "deflate, gzip;q=0.5", "x-gzip"):
            h = self.server.request("/api/v1/series", headers={"Accept-Encoding": accepted})[1]
            self.assertEqual(h.get("content-encoding"), "gzip", accepted)
        for path in ("/api/v1/series?from=2021-01-01", "/api/v1/export.csv", "/app.js", "/"):
            _, _, plain = self.server.request(path)
            _, h, z = self.server.request(path, headers={"Accept-Encoding": "gzip"})
            self.assertEqual((h["content-encoding"], gzip.decompress(z)), ("gzip", plain), path)

    def test_security_headers_on_every_response(self):
        for path in ("/", "/app.js", "/api/v1/series", "/api/v1/series?from=bad", "/nope", "/metrics"):
            h = self.server.request(path)[1]
            csp = h["content-security-policy"]
            self.assertIn("default-src 'none'", csp, path)
            self.assertIn("script-src 'self'", csp, path)
            self.assertNotIn("unsafe-inline", csp, path)
            self.assertNotIn("unsafe-eval", csp, path)
            self.assertEqual(h["x-content-type-options"], "nosniff", path)
            self.assertEqual(h["referrer-policy"], "no-referrer", path)
            self.assertIn("date", h, path)

    def test_summary_and_runs(self):
        s = self.server.get_json("/api/v1/summary")
        self.assertEqual((s["location"], s["first_date"], s["last_date"], s["days"]), ("US", "2020-01-21", "2022-04-19", 820))
        last = self.export[-1]
        self.assertEqual((s["latest"]["date"], s["latest"]["cases"], s["latest"]["deaths"]),
                         (last["date"], int(last["cases"]), int(last["deaths"])))
        self.assertEqual(s["latest"]["new_cases"], int(last["cases"]) - int(self.export[-2]["cases"]))
        self.assertIsNone(s["latest"]["recovered"])
        self.assertEqual((s["recovered_last_date"], s["recovered_last"]), ("2020-12-13", 6298082))
        self.assertEqual((s["last_run"]["id"], s["last_run"]["status"]), (self.summary["run_id"], "ok"))
        self.assertEqual(s["last_success"]["id"], self.summary["run_id"])
        self.assertEqual(s["runs"], {"ok": 1, "unchanged": 0, "failed": 0, "running": 0})
        runs = self.server.get_json("/api/v1/runs")["runs"]
        history = json.loads(cli("history", "--json", "--db", self.db).stdout)
        self.assertEqual(runs, history)
        self.assertEqual((runs[0]["status"], runs[0]["inserted"]), ("ok", 820))
        self.assertEqual(len(self.server.get_json("/api/v1/runs?limit=1")["runs"]), 1)

    def test_healthz_and_metrics(self):
        self.assertEqual(self.server.get_json("/healthz")["status"], "ok")
        self.server.request("/api/v1/series")
        code, headers, body = self.server.request("/metrics")
        self.assertEqual(code, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        text = body.decode()
        metrics = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                metrics[name] = float(value)
        self.assertEqual(metrics['covid_etl_runs{status="ok"}'], 1)
        self.assertEqual(metrics['covid_etl_runs{status="failed"}'], 0)
        self.assertEqual(metrics['covid_etl_rows_total{outcome="inserted"}'], 820)
        self.assertEqual(metrics['covid_etl_rows_total{outcome="updated"}'], 0)
        self.assertEqual(metrics['covid_etl_observations{location="US"}'], 820)
        self.assertGreater(metrics["covid_etl_last_success_timestamp_seconds"], 1.6e9)
        self.assertGreaterEqual(metrics['covid_etl_http_requests_total{route="/api/v1/series",code="200"}'], 1)
        self.assertGreaterEqual(metrics['covid_etl_http_request_duration_seconds_count{route="/api/v1/series"}'], 1)
        self.assertEqual(metrics['covid_etl_http_request_duration_seconds_bucket{route="/api/v1/series",le="+Inf"}'],
                         metrics['covid_etl_http_request_duration_seconds_count{route="/api/v1/series"}'])
        self.assertIn("# TYPE covid_etl_http_request_duration_seconds histogram", text)

    def test_request_limits(self):
        def raw(data):
            with socket.create_connection((HOST, self.server.port), timeout=10) as s:
                s.sendall(data)
                out = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            return int(out.split(b" ", 2)[1]), out

        self.assertEqual(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")[0], 431)
        self.assertEqual(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: abc\r\n" * 800 + b"\r\n")[0], 431)
        self.assertEqual(raw(b"GET /api/v1/series?from=" + b"9" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")[0], 414)
        self.assertEqual(raw(b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")[0], 414)
        self.assertEqual(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")[0], 400)
        self.assertEqual(raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")[0], 413)
        self.assertEqual(raw(b"NOT HTTP AT ALL\r\n\r\n")[0], 400)
        # Within the limits, and pipelined: three answers on one connection, the last one closing it.
        code, out = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 2 +
                        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual((code, out.count(b"HTTP/1.1 200 OK")), (200, 3))


class ServeLifecycle(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-serve-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "covid.db")
        self.servers = []
        self.addCleanup(lambda: [s.kill() for s in self.servers])

    def start(self, db=None, *extra):
        s = Server(db or self.db, *extra)
        self.servers.append(s)
        return s

    def test_new_data_is_served_after_a_run_without_a_restart(self):
        with open(NYT) as f:
            lines = f.readlines()
        part = os.path.join(self.tmp, "us-part.csv")
        with open(part, "w") as f:
            f.writelines(lines[:401])  # header and the first 400 dates
        load(self.db, nyt=part)
        server = self.start()
        first = server.get_json("/api/v1/series")
        self.assertEqual(first["count"], 400)
        _, h1, _ = server.request("/api/v1/series")
        csv1 = server.request("/api/v1/export.csv")[2]
        summary = load(self.db)  # another process commits 420 more dates
        # The very next request sees them: the data version is checked on every request.
        second = server.get_json("/api/v1/series")
        self.assertEqual((second["count"], second["to"]), (820, "2022-04-19"))
        _, h2, _ = server.request("/api/v1/series")
        self.assertNotEqual(h1["etag"], h2["etag"])
        self.assertEqual(server.request("/api/v1/series", headers={"If-None-Match": h1["etag"]})[0], 200)
        self.assertNotEqual(server.request("/api/v1/export.csv")[2], csv1)
        self.assertEqual(server.request("/api/v1/export.csv")[2].decode(), export(self.db))
        s = server.get_json("/api/v1/summary")
        self.assertEqual((s["last_run"]["id"], s["runs"]["ok"]), (summary["run_id"], 2))
        # A failed run is visible too (in the summary and the metrics), and the data stays.
        code, _, _ = run_json(self.db, os.path.join(self.tmp, "missing.csv"), JHU)
        self.assertEqual(code, 3)
        s = server.get_json("/api/v1/summary")
        self.assertEqual((s["last_run"]["status"], s["last_success"]["id"], s["days"]), ("failed", summary["run_id"], 820))
        self.assertIn('covid_etl_runs{status="failed"} 1', server.request("/metrics")[2].decode())

    def test_a_database_file_replaced_or_deleted_is_noticed(self):
        with open(NYT) as f:
            lines = f.readlines()
        part = os.path.join(self.tmp, "us-part.csv")
        with open(part, "w") as f:
            f.writelines(lines[:401])  # header and the first 400 dates
        load(self.db, nyt=part)
        new = os.path.join(self.tmp, "new.db")
        load(new)  # all 820 dates
        server = self.start()
        self.assertEqual(server.get_json("/api/v1/series")["count"], 400)
        self.assertEqual(server.get_json("/healthz")["status"], "ok")
        # `mv new.db covid.db`: the next request reads the new file (not the one still open).
        os.replace(new, self.db)
        time.sleep(0.01)  # the data version is checked at most once a millisecond
        self.assertEqual(server.get_json("/api/v1/series")["count"], 820)
        self.assertEqual(server.request("/api/v1/export.csv")[2].decode(), export(self.db))
        self.assertEqual(server.get_json("/healthz")["status"], "ok")
        # Deleted: /healthz says so with a 503; the data last read is still served meanwhile.
        os.remove(self.db)
        time.sleep(0.01)
        code, _, body = server.request("/healthz")
        health = json.loads(body)
        self.assertEqual((code, health["status"]), (503, "degraded"), health)
        self.assertIn(self.db, health["message"])
        self.assertEqual(server.get_json("/api/v1/series")["count"], 820)
        # A database there again is read (the server tries once a second): ok, its data served.
        load(self.db, nyt=part)
        deadline = time.monotonic() + 10
        while server.request("/healthz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(server.get_json("/healthz")["status"], "ok")
        self.assertEqual(server.get_json("/api/v1/series")["count"], 400)

    def test_sigterm_and_sigint_stop_it_cleanly(self):
        load(self.db)
        for sig in (signal.SIGTERM, signal.SIGINT):
            server = self.start()
            idle = http.client.HTTPConnection(HOST, server.port, timeout=10)
            self.assertEqual(server.request("/api/v1/series", conn=idle)[0], 200)  # kept alive, now idle
            code, err = server.stop(sig)
            self.assertEqual(code, 0, err)
            self.assertIn("stopped", err)
            with self.assertRaises(OSError):
                socket.create_connection((HOST, server.port), timeout=2).close()
            idle.close()

    def test_a_client_that_does_not_read_cannot_hold_up_the_stop(self):
        load(self.db)
        server = self.start()
        with socket.create_connection((HOST, server.port), timeout=10) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /api/v1/series HTTP/1.1\r\nHost: x\r\n\r\n" * 300)  # never read
            time.sleep(0.5)  # the server is now blocked writing to it
            self.assertEqual(server.request("/healthz")[0], 200)  # others are still served
            t = time.monotonic()
            code, err = server.stop(signal.SIGTERM, timeout=30)
            waited = time.monotonic() - t
        self.assertEqual(code, 0, err)
        print(f"\n  stopped {waited:.1f} s after SIGTERM with a response stuck in flight (grace: 5 s)")

    def test_it_waits_for_a_database_that_does_not_exist_yet(self):
        server = self.start()  # nothing at self.db
        code, _, body = server.request("/healthz")
        self.assertEqual(code, 503)
        self.assertIn("no database", json.loads(body)["message"])
        code, headers, body = server.request("/api/v1/series")
        self.assertEqual((code, json.loads(body)["error"]), (503, "unavailable"))
        self.assertEqual(server.request("/")[0], 200)  # the page itself is there
        load(self.db)
        deadline = time.monotonic() + 10
        while server.request("/healthz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(server.get_json("/api/v1/series")["count"], 820)

    def test_bad_listen_addresses_are_usage_errors(self):
        load(self.db)
        for listen in ("nonsense", "127.0.0.1:99999", "127.0.0.1:", ":8080", "127.0.0.1:80a"):
            p = cli("serve", "--db", self.db, "--listen", listen, env={})
            self.assertEqual(p.returncode, 64, listen)
            self.assertIn("HOST:PORT", p.stderr, listen)
        server = self.start()
        p = cli("serve", "--db", self.db, "--listen", f"{HOST}:{server.port}", timeout=20)  # in use
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("cannot listen", p.stderr)
        p = cli("serve", "--db", "bogus://nowhere", "--listen", f"{HOST}:0", timeout=20)
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_listen_address_from_the_configuration_file(self):
        load(self.db)
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        config = os.path.join(self.tmp, "c.toml")
        with open(config, "w") as f:
            f.write(f'db = "{self.db}"\n[serve]\nlisten = "{HOST}:{port}"\n')
        proc = subprocess.Popen([BIN, "serve", "--config", config], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=clean_env())
        try:
            self.assertIn(f"http://{HOST}:{port}/", proc.stdout.readline())
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0)
        with open(config, "w") as f:
            f.write('[serve]\nlisten = "no port"\n')
        p = cli("serve", "--config", config)
        self.assertEqual(p.returncode, 64)
        self.assertIn("c.toml:2:", p.stderr)


STATES = os.path.join(SHARED, "nyt", "us-states.csv")
GEN = os.path.join(os.path.dirname(SHARED), "tools", "gen-nyt-like")


def metric_values(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def daily(cumulative):
    return [None] + [None if a is None or b is None else b - a for a, b in zip(cumulative, cumulative[1:])]


def avg7(values):
    out = [None] * len(values)
    for k in range(6, len(values)):
        window = values[k - 6:k + 1]
        if None not in window:
            out[k] = round(sum(window) / 7, 2)
    return out


class ServeLocations(unittest.TestCase):
    """Any location's series, the locations search and the table of states, over the real states
    file and a small generated county set (gen-nyt-like --counties 120 --days 60) loaded together."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="covid-etl-serve-loc-")
        gen = os.path.join(cls.tmp, "gen")
        subprocess.run(["/usr/bin/python3", GEN, gen, "--counties", "120", "--days", "60"], check=True,
                       capture_output=True, timeout=120)
        cls.counties_file = os.path.join(gen, "us-counties.csv")
        cls.db = os.path.join(cls.tmp, "covid.db")
        code, summary, err = run_json(cls.db, NYT, JHU, "--states", STATES, "--counties", cls.counties_file)
        if code != 0:
            raise AssertionError(f"run failed ({code}): {err}")
        cls.server = Server(cls.db)
        with open(STATES, newline="") as f:
            cls.state_names = {r["fips"].zfill(2): r["state"] for r in csv.DictReader(f)}
        with open(cls.counties_file, newline="") as f:
            cls.county_rows = list(csv.DictReader(f))
        codes = {name: code for code, name in cls.state_names.items()}
        cls.counties = {}  # location id -> (name, state name)
        for r in cls.county_rows:
            loc = r["fips"] or f"{codes[r['state']]}:{r['county']}"
            cls.counties[loc] = (r["county"], r["state"])

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, True)

    def county_with_fips(self):
        return sorted(k for k in self.counties if ":" not in k)[0]

    def test_locations_lists_and_searches_what_was_loaded(self):
        every = self.server.get_json("/api/v1/locations?limit=1000")
        self.assertEqual(every["total"], 1 + len(self.state_names) + len(self.counties))
        self.assertEqual(every["locations"][0], {"id": "US", "type": "nation", "name": "United States",
                                                 "state": None, "fips": None, "label": "United States",
                                                 "source": "The New York Times, Johns Hopkins University",
                                                 "population": None})
        states = self.server.get_json("/api/v1/locations?type=state")
        self.assertEqual(states["total"], len(self.state_names))
        self.assertEqual({l["id"]: l["name"] for l in states["locations"]}, self.state_names)
        self.assertEqual([l["name"] for l in states["locations"]], sorted(self.state_names.values()))
        self.assertEqual(self.server.get_json("/api/v1/locations?type=county&limit=1000")["total"], len(self.counties))
        # The default limit is 100; the total says how many matched.
        counties = self.server.get_json("/api/v1/locations?type=county")
        self.assertEqual((counties["count"], counties["limit"]), (min(100, len(self.counties)), 100))
        # By name, case-insensitive, the exact name first; by FIPS prefix, the state then its counties.
        cal = self.server.get_json("/api/v1/locations?q=CALIF")["locations"]
        self.assertEqual((cal[0]["id"], cal[0]["type"]), ("06", "state"))
        self.assertTrue(all(l["state"] == "California" for l in cal[1:]), cal)
        self.assertEqual(self.server.get_json("/api/v1/locations?q=new%20york")["locations"][0]["id"], "36")
        county = self.county_with_fips()
        hits = self.server.get_json(f"/api/v1/locations?q={county[:2]}")["locations"]
        self.assertEqual(hits[0]["id"], county[:2])
        want = sorted(k for k in self.counties if k.startswith(county[:2]))
        self.assertEqual(sorted(l["id"] for l in hits[1:]), want)
        name, state = self.counties[county]
        one = self.server.get_json(f"/api/v1/locations?q={county}")["locations"]
        self.assertEqual(one, [{"id": county, "type": "county", "name": name, "state": state, "fips": county,
                                "label": f"{name}, {state}", "source": "The New York Times", "population": None}])
        nyc = self.server.get_json("/api/v1/locations?q=new+york+city&type=county")["locations"]
        self.assertEqual([(l["id"], l["fips"], l["state"]) for l in nyc], [("36:New York City", None, "New York")])
        # Unknown is kept apart per state: one per state that has one.
        unknown = self.server.get_json("/api/v1/locations?q=unknown&limit=1000")["locations"]
        self.assertEqual(sorted(l["id"] for l in unknown), sorted(k for k, v in self.counties.items() if v[0] == "Unknown"))
        self.assertGreater(len(unknown), 1)
        by_id = self.server.get_json("/api/v1/locations?id=" + ",".join(["US", county, "99999", "36:New%20York%20City"]))
        self.assertEqual(sorted(l["id"] for l in by_id["locations"]), sorted(["US", county, "36:New York City"]))
        self.assertEqual(self.server.get_json("/api/v1/locations?q=no-such-place")["locations"], [])

    def test_series_and_export_of_a_state_and_counties(self):
        county = self.county_with_fips()
        for loc, query in (("06", "06"), (county, county), ("36:New York City", "36%3ANew+York+City"),
                           ("10:Unknown", "10:Unknown")):
            want = rows_of(export(self.db, "--location", loc))
            self.assertTrue(want, loc)
            s = self.server.get_json(f"/api/v1/series?location={query}")
            self.assertEqual((s["location"], s["count"]), (loc, len(want)), loc)
            self.assertEqual(s["date"], [r["date"] for r in want], loc)
            cases = [count(r["cases"]) for r in want]
            self.assertEqual(s["cases"], cases, loc)
            self.assertEqual(s["deaths"], [count(r["deaths"]) for r in want], loc)
            self.assertEqual(s["recovered"], [None] * len(want), loc)  # unknown below the nation
            self.assertEqual(s["new_cases"], daily(cases), loc)
            self.assertEqual(s["new_cases_avg7_raw"], avg7(daily(cases)), loc)
            code, headers, body = self.server.request(f"/api/v1/export.csv?location={query}")
            self.assertEqual((code, body.decode()), (200, export(self.db, "--location", loc)), loc)
            self.assertIn("attachment", headers["content-disposition"])
            ranged = self.server.get_json(f"/api/v1/series?location={query}&from={want[-3]['date']}&fields=cases")
            self.assertEqual(ranged["cases"], cases[-3:], loc)
            summary = self.server.get_json(f"/api/v1/summary?location={query}")
            self.assertEqual((summary["location"], summary["latest"]["cases"]), (loc, cases[-1]), loc)
        # The state's real values, as in the file.
        with open(STATES, newline="") as f:
            ca = [r for r in csv.DictReader(f) if r["fips"].zfill(2) == "06"]
        s = self.server.get_json("/api/v1/series?location=06")
        self.assertEqual(s["cases"], [int(r["cases"]) for r in ca])

    def test_unknown_locations_and_bad_parameters_answer_400(self):
        for path, word in {
            "/api/v1/series?location=99999": "unknown location",
            "/api/v1/series?location=7": "unknown location",
            "/api/v1/series?location=" + "9" * 300: "unknown location",
            "/api/v1/export.csv?location=00000": "unknown location",
            "/api/v1/summary?location=xx": "unknown location",
            "/api/v1/locations?type=city": "type",
            "/api/v1/locations?limit=0": "limit",
            "/api/v1/locations?limit=1001": "limit",
            "/api/v1/locations?q=a&q=b": "more than once",
            "/api/v1/locations?state=06": "state",
            "/api/v1/locations?id=": "id",
            "/api/v1/states?sort=avg": "sort",
        }.items():
            code, headers, body = self.server.request(path)
            self.assertEqual(code, 400, path)
            err = json.loads(body)
            self.assertEqual(err["error"], "bad_request", path)
            self.assertIn(word, err["message"], path)
        # A state's FIPS code without its zero and an id in another case name their location
        # (issue 20): the same series as the id's.
        for path, same in {"/api/v1/series?location=6": "/api/v1/series?location=06",
                           "/api/v1/series?location=us": "/api/v1/series?location=US",
                           "/api/v1/series?location=36:new%20york%20city":
                               "/api/v1/series?location=36:New%20York%20City"}.items():
            self.assertEqual(self.server.get_json(path), self.server.get_json(same), path)

    def test_states_table_has_every_state_with_its_latest_average_and_change(self):
        table = self.server.get_json("/api/v1/states")
        self.assertEqual(table["count"], len(self.state_names))
        self.assertEqual([r["id"] for r in table["states"]], sorted(self.state_names))
        by_id = {r["id"]: r for r in table["states"]}
        self.assertEqual(by_id["06"]["name"], "California")
        for loc in ("06", "36", "53", "72"):
            rows = rows_of(export(self.db, "--location", loc))
            cases = [int(r["cases"]) for r in rows]
            averages = avg7(daily(cases))
            r = by_id[loc]
            self.assertEqual((r["date"], r["cases"], r["new_cases_avg7"]), (rows[-1]["date"], cases[-1], averages[-1]), loc)
            i = [x["date"] for x in rows].index(
                (datetime.date.fromisoformat(rows[-1]["date"]) - datetime.timedelta(days=14)).isoformat())
            self.assertEqual(r["new_cases_avg7_14d_ago"], averages[i], loc)
            self.assertAlmostEqual(r["change_14d"], averages[-1] - averages[i], places=2, msg=loc)
            if averages[i]:
                self.assertAlmostEqual(r["change_14d_pct"], (averages[-1] - averages[i]) / averages[i] * 100,
                                       delta=0.01, msg=loc)
        self.assertEqual(table["date"], max(r["date"] for r in table["states"]))
        code, headers, _ = self.server.request("/api/v1/states")
        self.assertEqual(self.server.request("/api/v1/states", headers={"If-None-Match": headers["etag"]})[0], 304)

    def test_a_series_is_read_once_then_answered_from_memory_within_a_millisecond(self):
        route = 'route="/api/v1/series"'
        count_key = f"covid_etl_http_request_duration_seconds_count{{{route}}}"
        fast_key = f'covid_etl_http_request_duration_seconds_bucket{{{route},le="0.001"}}'

        def metrics(requests):
            """/metrics once it counts `requests` on the route (a request is counted once its
            response is written, which may be just after the client has it)."""
            deadline = time.monotonic() + 5
            while True:
                m = metric_values(self.server.request("/metrics")[2].decode())
                if m.get(count_key, 0) >= requests or time.monotonic() > deadline:
                    return m
                time.sleep(0.01)

        conn = http.client.HTTPConnection(HOST, self.server.port, timeout=10)
        self.addCleanup(conn.close)
        # A generated county (60 dates) and a real state (1,100 dates: a county's length at full
        # scale), each asked for once and then 300 times.
        county = sorted(k for k in self.counties if ":" not in k)[-1]
        for what, loc in (("county", county), ("state", "53")):
            path = f"/api/v1/series?location={loc}"
            before = metrics(0)
            first = self.server.request(path)
            self.assertEqual(first[0], 200)
            mid = metrics(before.get(count_key, 0) + 1)
            n = 300
            for _ in range(n):
                code, _, body = self.server.request(path, conn=conn)
                self.assertEqual((code, body), (200, first[2]))
            after = metrics(mid[count_key] + n)
            # One read from the database for all of them.
            self.assertEqual(after["covid_etl_series_reads_total"] - before["covid_etl_series_reads_total"], 1, loc)
            self.assertGreaterEqual(after["covid_etl_series_cached"], 1)
            # Server time, from the server's own latency histogram: nearly all within a millisecond.
            total = after[count_key] - mid[count_key]
            fast = after[fast_key] - mid[fast_key]
            self.assertEqual(total, n)
            print(f"\n  {what} {loc}, {len(first[2]):,} bytes: the first answer read it; of the next {n}, "
                  f"{fast:.0f} within 1 ms of server time", end="")
            self.assertGreaterEqual(fast / total, 0.9, loc)


class ServeConnections(ServerTest):
    IDLE = 1000

    def test_1000_idle_keep_alive_connections_do_not_stop_other_clients(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = self.IDLE + 200
        if soft < want:
            if hard != resource.RLIM_INFINITY and hard < want:
                self.skipTest(f"this process may open only {hard} files")
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        # Half of them asked one question and were kept alive; half never said anything.
        for i in range(self.IDLE):
            # From many client addresses (all of 127/8 is loopback): the server allows 64 per client.
            source = f"127.0.{1 + i // 2500}.{2 + i // 10 % 250}"
            s = socket.create_connection((HOST, self.server.port), timeout=10, source_address=(source, 0))
            if i % 2 == 0:
                s.sendall(request)
            idle.append(s)
        for s in idle[::2]:
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 OK"))

        # Another client, on connections of its own, is still answered, each time within the
        # socket timeout (a server with a thread per connection from a bounded pool would not).
        latencies = []
        conn = http.client.HTTPConnection(HOST, self.server.port, timeout=5)
        self.addCleanup(conn.close)
        for i in range(200):
            t = time.monotonic()
            code, _, body = self.server.request("/api/v1/series" if i % 2 else "/api/v1/summary", conn=conn)
            latencies.append(time.monotonic() - t)
            self.assertEqual(code, 200)
        for i in range(20):
            self.assertEqual(self.server.request("/api/v1/series?from=2021-01-01", timeout=5)[0], 200)
        latencies.sort()
        print(f"\n  with {self.IDLE} idle connections open: 200 requests, median "
              f"{latencies[100] * 1000:.2f} ms, max {latencies[-1] * 1000:.2f} ms")
        metrics = self.server.request("/metrics")[2].decode()
        open_now = int(re.search(r"^covid_etl_http_connections_open (\d+)$", metrics, re.M).group(1))
        self.assertGreaterEqual(open_now, self.IDLE)
        # And the idle ones are still open and usable.
        for s in idle[::100] + idle[1::100]:
            s.sendall(request)
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 OK"))


if __name__ == "__main__":
    unittest.main()
