"""`covid-etl daemon`: the schedule (catch-up at start, a tick a few seconds away), the run
trigger (token, 401/429, 202, 409 during a run, progress by id), requests answered during a run,
SIGTERM during a run (the database stays consistent), SIGHUP reload, JSON logs, the publish after
a run ([publish] to: a folder written, a failed publish the run's failure at stage publish).
"""
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

from etl import BIN, JHU, NYT, TempDirTest, export, history, run_json
from fake_secrets import TRIGGER_TOKEN as TOKEN  # the suite's fake trigger token
from httpfixture import HttpFixture, Reply


class Daemon:
    def __init__(self, test, config, env=None, args=()):
        full = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
        full.update(env or {})
        self.proc = subprocess.Popen([BIN, "daemon", "--config", config, "--db", test.db, "--listen", "127.0.0.1:0", *args],
                                     env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        test.assertIn("listening on http://", line, self.proc.stderr.read() if not line else line)
        self.base = line.split("listening on ")[1].split("/ ")[0]
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        test.addCleanup(self.kill)

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def request(self, path, method="GET", token=None, timeout=10):
        req = urllib.request.Request(self.base + path, method=method, data=b"" if method == "POST" else None)
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def wait_for_log(self, text, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in l for l in self.lines):
                return
            time.sleep(0.05)
        raise AssertionError(f"no log line with {text!r} in {timeout} s:\n" + "\n".join(self.lines))

    def wait_status(self, run_id, wanted=("ok", "unchanged", "failed"), timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, doc = self.request(f"/api/v1/runs/{run_id}")
            if code == 200 and doc["status"] in wanted:
                return doc
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not reach {wanted}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.reader.join(timeout=5)
        self.proc.stderr.close()


class DaemonTest(TempDirTest):
    def config(self, cron="0 0 1 1 *", nyt=NYT, extra=""):
        return self.write("covid-etl.toml", f'[sources]\nnyt = "{nyt}"\njhu = "{JHU}"\n'
                                            f'[schedule]\ncron = "{cron}"\n{extra}')


class Schedule(DaemonTest):
    def test_catch_up_at_start_then_the_scheduled_tick(self):
        # Start a few seconds before a minute boundary: "* * * * *" is then due within seconds.
        while not 50 <= time.time() % 60 < 57:
            time.sleep(0.2)
        d = Daemon(self, self.config(cron="* * * * *"))
        d.wait_for_log("run_started: run 1 started (catch-up)")
        d.wait_for_log("(schedule)", timeout=30)
        d.wait_for_log("run_finished: run 2")
        self.assertEqual(d.stop(), 0)
        self.assertEqual([r["status"] for r in history(self.db)], ["unchanged", "ok"])

    def test_no_catch_up_when_the_last_success_is_recent(self):
        self.assertEqual(run_json(self.db)[0], 0)
        d = Daemon(self, self.config(cron="0 0 1 1 *"))
        d.wait_for_log("next_run")
        time.sleep(0.5)
        self.assertEqual(d.stop(), 0)
        self.assertEqual(len(history(self.db)), 1)
        self.assertFalse(any("catch_up" in l for l in d.lines))

    def test_sighup_reloads_the_configuration(self):
        d = Daemon(self, self.config(cron="0 0 1 1 *"), args=("--log-format", "json"))
        d.wait_for_log('"event":"next_run"')
        self.config(cron="30 6 * * *")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for_log('"event":"reloaded"')
        d.wait_for_log('schedule \\"30 6 * * *\\"')
        self.assertEqual(d.stop(), 0)
        for line in d.lines:  # one JSON object per line
            event = json.loads(line)
            self.assertIn("ts", event)
            self.assertIn("event", event)


class Trigger(DaemonTest):
    def setUp(self):
        super().setUp()
        self.assertEqual(run_json(self.db)[0], 0)  # data in place: no catch-up run
        self.before = export(self.db)
        self.upstream = HttpFixture().start()
        self.addCleanup(self.upstream.stop)
        with open(NYT, "rb") as f:
            self.nyt_body = f.read()

    def test_without_a_token_the_endpoint_is_off(self):
        d = Daemon(self, self.config())
        self.assertEqual(d.request("/api/v1/runs", "POST", token="anything")[0], 404)
        self.assertEqual(d.request("/api/v1/runs")[0], 200)  # the history is still there

    def test_tokens_are_checked_and_wrong_ones_rate_limited(self):
        d = Daemon(self, self.config(), env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        self.assertEqual(d.request("/api/v1/runs", "POST")[0], 401)
        for _ in range(4):
            self.assertEqual(d.request("/api/v1/runs", "POST", token=TOKEN + "x")[0], 401)
        self.assertEqual(d.request("/api/v1/runs", "POST", token=TOKEN)[0], 429)  # even the right one, for a minute
        self.assertFalse(any(TOKEN in l for l in d.lines))

    def test_a_triggered_run_and_409_while_it_runs(self):
        self.upstream.plan("/us.csv", Reply(200, self.nyt_body, delay_s=2.0))
        d = Daemon(self, self.config(nyt=self.upstream.url("/us.csv")), env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        code, doc = d.request("/api/v1/runs", "POST", token=TOKEN)
        self.assertEqual(code, 202)
        run_id = doc["id"]
        self.assertEqual(d.request(f"/api/v1/runs/{run_id}")[1]["status"], "running")
        code, doc = d.request("/api/v1/runs", "POST", token=TOKEN)
        self.assertEqual((code, doc["id"]), (409, run_id))
        started = time.monotonic()
        self.assertEqual(d.request("/healthz")[0], 200)  # served during the run
        self.assertLess(time.monotonic() - started, 1.0)
        done = d.wait_status(run_id)
        self.assertEqual((done["status"], done["unchanged"], done["run_id"]), ("unchanged", 820, run_id))
        self.assertEqual(d.request(f"/api/v1/runs/{run_id - 1}")[1]["status"], "ok")  # from the history
        self.assertEqual(d.request("/api/v1/runs/999")[0], 404)
        self.assertEqual(d.request("/api/v1/runs/abc")[0], 400)
        self.assertEqual(d.stop(), 0)

    def test_new_data_is_served_once_the_run_commits(self):
        rows = self.nyt_body.decode().splitlines()[:-10]
        self.upstream.plan("/us.csv", Reply(200, ("\n".join(rows) + "\n").encode()))
        short = self.path("short.db")
        self.assertEqual(run_json(short, self.upstream.url("/us.csv"))[0], 0)
        self.db = short
        self.upstream.plan("/us.csv", Reply(200, self.nyt_body))
        d = Daemon(self, self.config(nyt=self.upstream.url("/us.csv")), env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        self.assertEqual(d.request("/api/v1/summary")[1]["last_date"], "2022-04-09")
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        self.assertEqual(d.wait_status(run_id)["inserted"], 10)
        deadline = time.monotonic() + 5
        while d.request("/api/v1/summary")[1]["last_date"] != "2022-04-19" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(d.request("/api/v1/summary")[1]["last_date"], "2022-04-19")


class RunById(DaemonTest):
    def test_a_run_older_than_the_newest_10000_is_found(self):
        code, first, err = run_json(self.db)
        self.assertEqual(code, 0, err)
        # 10,005 more runs after it (as if the daemon had run every few minutes for a month).
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        with sqlite3.connect(self.db) as c:
            c.executemany("INSERT INTO runs (id, started_at, finished_at, status) VALUES (?, ?, ?, 'unchanged')",
                          [(i, now, now) for i in range(2, 10_007)])
        c.close()
        d = Daemon(self, self.config())
        code, doc = d.request("/api/v1/runs/1")
        self.assertEqual(code, 200, doc)
        for key in ("status", "run_id", "inserted", "updated", "unchanged", "missing", "first_date", "last_date"):
            self.assertEqual(doc[key], first[key], key)
        code, doc = d.request("/api/v1/runs/10006")
        self.assertEqual((code, doc["run_id"], doc["status"]), (200, 10006, "unchanged"))
        for missing in (0, 10_007, 999_999_999):
            self.assertEqual(d.request(f"/api/v1/runs/{missing}")[0], 404, missing)
        self.assertEqual(d.stop(), 0)


class Stop(DaemonTest):
    def setUp(self):
        super().setUp()
        with open(NYT) as f:
            short = self.write("short.csv", "".join(f.readlines()[:-10]))
        self.assertEqual(run_json(self.db, short)[0], 0)
        self.before = export(self.db)
        self.upstream = HttpFixture().start()
        self.addCleanup(self.upstream.stop)
        with open(NYT, "rb") as f:
            self.upstream.plan("/us.csv", Reply(200, f.read(), delay_s=2.0))

    def test_sigterm_during_a_run_leaves_the_database_consistent(self):
        config = self.config(nyt=self.upstream.url("/us.csv"), extra="stop_timeout_ms = 200\n")
        d = Daemon(self, config, env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        self.assertEqual(d.stop(), 0)  # the run did not finish within 200 ms
        self.assertEqual(export(self.db), self.before)  # the old data, not a mix
        self.assertEqual(history(self.db)[0]["id"], run_id)
        code, s, err = run_json(self.db)  # the next run succeeds
        self.assertEqual((code, s["inserted"]), (0, 10), err)

    def test_sigterm_waits_for_a_run_that_finishes_in_time(self):
        config = self.config(nyt=self.upstream.url("/us.csv"), extra="stop_timeout_ms = 20000\n")
        d = Daemon(self, config, env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        self.assertEqual(d.stop(), 0)
        self.assertEqual(history(self.db)[0]["id"], run_id)
        self.assertEqual(history(self.db)[0]["status"], "ok")
        self.assertEqual(len(export(self.db).splitlines()), 821)  # the new data, whole


class Publish(DaemonTest):
    """[publish] to: a run of the daemon publishes once it commits (publish/after_run.h, README
    "After a run"); a publish that fails is the run's failure at stage publish, the data kept; a
    malformed destination stops the daemon at start, before any run."""

    def setUp(self):
        super().setUp()
        with open(NYT) as f:
            short = self.write("short.csv", "".join(f.readlines()[:-10]))
        self.assertEqual(run_json(self.db, short)[0], 0)  # the data but its last 10 days: no catch-up

    def published_summary(self, site):
        with open(os.path.join(site, "data", "index.json"), encoding="utf-8") as f:
            index = json.load(f)
        with open(os.path.join(site, index["objects"]["summary"]), encoding="utf-8") as f:
            return json.load(f)

    def test_a_triggered_run_publishes_its_data(self):
        site = self.path("site")
        d = Daemon(self, self.config(extra=f'[publish]\nto = "{site}"\n'), env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        self.assertFalse(os.path.exists(site))
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        done = d.wait_status(run_id)
        self.assertEqual((done["status"], done["inserted"]), ("ok", 10), done)
        self.assertEqual(done["publish"]["to"], site)
        self.assertEqual(done["publish"]["written"], done["publish"]["objects"])
        self.assertTrue(os.path.exists(os.path.join(site, "publish-manifest.json")))
        self.assertTrue(os.path.exists(os.path.join(site, "index.html")))
        self.assertEqual(self.published_summary(site)["last_date"], "2022-04-19")  # the run's data
        self.assertEqual(d.stop(), 0)

    def test_a_failed_publish_is_the_runs_failure_at_stage_publish(self):
        blocker = self.write("blocker", "a file where the site's folder should be\n")
        site = os.path.join(blocker, "site")
        d = Daemon(self, self.config(extra=f'[publish]\nto = "{site}"\n'), env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        done = d.wait_status(run_id)
        self.assertEqual((done["status"], done["stage"], done["inserted"]), ("failed", "publish", 10), done)
        self.assertIn(blocker, done["publish"]["error"])
        runs = history(self.db)
        self.assertEqual((runs[0]["id"], runs[0]["status"], runs[0]["stage"]), (run_id, "failed", "publish"))
        self.assertEqual(len(export(self.db).splitlines()), 821)  # the data is committed
        self.assertEqual(d.stop(), 0)

    def test_a_malformed_destination_stops_the_daemon_before_any_run(self):
        before = history(self.db)
        for extra, env, message in (
                ('[publish]\nto = "s3://Bad_Bucket/x?region=us-east-1"\n', {}, "the bucket name 'Bad_Bucket'"),
                ("", {"COVID_ETL_PUBLISH_TO": "file://site"}, "is not file:///ABSOLUTE/PATH")):
            with self.subTest(message=message):
                full = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
                full.update(env)
                p = subprocess.run([BIN, "daemon", "--config", self.config(extra=extra), "--db", self.db,
                                    "--listen", "127.0.0.1:0"], env=full, capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn("[publish] to (or COVID_ETL_PUBLISH_TO)", p.stderr)
                self.assertIn(message, p.stderr)
                self.assertNotIn("listening", p.stdout)
        self.assertEqual(history(self.db), before)  # no run
        # At a reload: refused, the configuration before kept.
        site = self.path("site")
        config = self.config(extra=f'[publish]\nto = "{site}"\n')
        d = Daemon(self, config, env={"COVID_ETL_TRIGGER_TOKEN": TOKEN})
        d.wait_for_log("next_run")
        self.config(extra='[publish]\nto = "s3://Bad_Bucket/x?region=us-east-1"\n')
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for_log("reload_failed")
        self.assertIn("[publish] to (or COVID_ETL_PUBLISH_TO)", "\n".join(d.lines))
        self.assertIn("keeping the current configuration", "\n".join(d.lines))
        run_id = d.request("/api/v1/runs", "POST", token=TOKEN)[1]["id"]
        self.assertEqual(d.wait_status(run_id)["publish"]["to"], site)  # the folder of before
        self.assertEqual(d.stop(), 0)
