"""covid-etl publish to a folder, end to end with the real binary (issue 19).

PublishFolder: the national and state series of ../shared/data loaded without their last day,
published; then the one-day run, published again: the second publish writes exactly the objects
whose content changed and the data index, and keeps the objects only the old index named (a page
left open may still ask for them); a third publish writes nothing. A location's series is two
objects (its history and its level's recent rows), which joined are serve's /api/v1/series
response exactly (the nation, states). The folder is served by a plain
static server (python's http.server) and every object the index names is there. `run` with
[publish] to publishes after its commit; a publish that fails is reported as a failure of stage
`publish` (exit status, history, the outbox), the data stays committed, and the next run, which
changes nothing, publishes again. (The page itself, loaded from such a folder in Chromium, is
tests/browser/publish.test.mjs.)
"""
import csv
import json
import os
import subprocess
import threading
import unittest
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from etl import BIN, NYT, JHU, SHARED, TempDirTest, cli, history
from test_serve import Server

STATES = os.path.join(SHARED, "nyt", "us-states.csv")


def without_last_day(src, dst):
    """Copies a date-first CSV without the rows of its last date; returns that date."""
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    last = max(r[0] for r in rows[1:])
    with open(dst, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:] if r[0] != last])
    return last


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class PublishFolder(TempDirTest):
    def run_etl(self, nyt, states, *extra):
        p = cli("run", "--json", "--db", self.db, "--nyt", nyt, "--jhu", JHU, "--states", states, *extra)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr

    def publish(self, site):
        p = cli("publish", "--json", "--db", self.db, "--to", site)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def index(self, site):
        with open(os.path.join(site, "data", "index.json"), encoding="utf-8") as f:
            return json.load(f)

    def keys(self, index):
        out = {index["locations"]}
        for v in index["objects"].values():
            out |= set(v) if isinstance(v, list) else {v}
        return out

    def series(self, site, index, location):
        """A location's series as the page joins its two objects (web/src/app.js publishedSeries)."""
        history_key, recent_key = index["objects"][f"series?location={location}"]
        with open(os.path.join(site, history_key), encoding="utf-8") as f:
            h = json.load(f)
        with open(os.path.join(site, recent_key), encoding="utf-8") as f:
            r = json.load(f)[location]
        if not r["count"]:
            return h
        joined = {k: v + r[k] if isinstance(v, list) else v for k, v in h.items()}
        joined.update({"from": h["from"] if h["count"] else r["from"], "to": r["to"],
                       "count": h["count"] + r["count"]})
        return joined

    def test_one_day_run_publishes_only_what_changed(self):
        nyt, states = self.path("us.csv"), self.path("us-states.csv")
        without_last_day(NYT, nyt)
        last = without_last_day(STATES, states)  # the states' files go on after the nation's
        code, s, err = self.run_etl(nyt, states)
        self.assertEqual(code, 0, err)
        site = self.path("site")
        first = self.publish(site)
        self.assertEqual(first["written"], first["objects"])
        before = self.index(site)

        code, s, err = self.run_etl(NYT, STATES)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "ok")
        second = self.publish(site)
        after = self.index(site)
        added = self.keys(after) - self.keys(before)
        gone = self.keys(before) - self.keys(after)
        # Exactly the objects whose content changed, and the index; the rest untouched.
        self.assertEqual(second["written"], len(added) + 1)
        self.assertEqual(second["unchanged"], second["objects"] - second["written"])
        # A day adds no location's history: the series' objects written are the recent ones.
        self.assertLess(second["written"], 30)
        for request in ("series?location=US", "series?location=06", "summary", "rankings?level=state"):
            self.assertNotEqual(before["objects"][request], after["objects"][request], request)
        for request in ("rankings?level=country", "rankings?level=county&state=06"):
            self.assertEqual(before["objects"][request], after["objects"][request], request)
        # The objects of the day before are kept one more publish, for a page left open.
        self.assertEqual(second["deleted"], 0)
        for key in gone:
            self.assertTrue(os.path.exists(os.path.join(site, key)), key)
        print(f"\n      one-day publish: {second['written']} of {second['objects']} objects written "
              f"({second['bytes_written']} bytes), {second['deleted']} deleted")

        third = self.publish(site)
        self.assertEqual((third["written"], third["deleted"]), (0, 0))

        # Each series joined from its two objects is serve's response, to the byte of each value.
        server = Server(self.db)
        self.addCleanup(server.kill)
        for location in ("US", "06", "36"):  # a country and a county: tests/browser/publish.test.mjs
            want = server.get_json(f"/api/v1/series?location={location}")
            got = self.series(site, after, location)
            self.assertGreater(got["count"], 100, location)
            self.assertEqual(json.dumps(got), json.dumps(want), location)

        # A plain static server serves the folder: every object the index names, as JSON.
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=site))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(base + after["objects"]["series?location=06"][1]) as r:
            self.assertEqual(r.headers["Content-Type"], "application/json")
            series = json.load(r)["06"]
        self.assertEqual(series["location"], "06")
        self.assertEqual(series["date"][-1], last)
        with urllib.request.urlopen(base) as r:
            self.assertIn(b'href="data/index.json"', r.read())

    def test_run_publishes_after_commit_and_retries_a_failed_publish(self):
        blocker = self.path("blocker")
        with open(blocker, "w") as f:
            f.write("a file where the site's folder should be\n")
        site = os.path.join(blocker, "site")
        conf = self.path("covid-etl.toml")
        with open(conf, "w") as f:
            f.write(f'[publish]\nto = "{site}"\n')
        code, s, err = self.run_etl(NYT, STATES, "--config", conf)
        # The data is committed; the publish failed: exit 3, stage publish.
        self.assertEqual(code, 3, err)
        self.assertEqual((s["status"], s["stage"]), ("failed", "publish"))
        self.assertIn("error", s["publish"])
        self.assertGreater(s["inserted"], 0)
        runs = history(self.db)
        self.assertEqual((runs[0]["status"], runs[0]["stage"]), ("failed", "publish"))
        self.assertEqual(runs[0]["inserted"], s["inserted"])
        self.assertIn(s["publish"]["error"], runs[0]["error"])
        p = cli("export", "--db", self.db, "--location", "06")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreater(len(p.stdout.splitlines()), 100)
        p = cli("notify", "--list", "--all", "--json", "--db", self.db)
        self.assertEqual(p.returncode, 0, p.stderr)
        failures = [m for m in json.loads(p.stdout) if m["event"] == "failure"]
        self.assertEqual(len(failures), 1, p.stdout)
        self.assertIn("FAILED at publish", failures[0]["subject"])

        # The destination can be written again: the next run changes nothing, and publishes.
        os.remove(blocker)
        code, s, err = self.run_etl(NYT, STATES, "--config", conf)
        self.assertEqual(code, 0, err)
        self.assertEqual(s["status"], "unchanged")
        self.assertEqual(s["publish"]["written"], s["publish"]["objects"])
        self.assertTrue(os.path.exists(os.path.join(site, "data", "index.json")))
        self.assertEqual(history(self.db)[0]["status"], "unchanged")
        # Then a run that changes nothing does not publish.
        code, s, err = self.run_etl(NYT, STATES, "--config", conf)
        self.assertEqual(code, 0, err)
        self.assertIsNone(s["publish"])

    def test_a_malformed_destination_is_refused_before_the_run_loads_anything(self):
        """[publish] to / COVID_ETL_PUBLISH_TO is checked when the configuration is read: found
        only at the publish, after the commit, it would fail every run. Exit 64 naming it, no
        database made."""
        conf = self.path("covid-etl.toml")
        for how, dest, message in (
                ("file", "s3://Bad_Bucket/x?region=us-east-1", "the bucket name 'Bad_Bucket'"),
                ("file", "file://site", "is not file:///ABSOLUTE/PATH"),
                ("env", "s3://bucket/x?region=us-east-1&colour=red", "unknown parameter 'colour'"),
                ("env", self.write("a-file", "not a folder\n"), "exists and is not a folder"),
                ("env", "s3://bucket/x?region=us-east-1", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")):
            with self.subTest(dest=dest):
                with open(conf, "w") as f:
                    f.write(f'[publish]\nto = "{dest}"\n' if how == "file" else "")
                env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
                env["COVID_ETL_PUBLISH_TO"] = dest if how == "env" else ""
                p = subprocess.run([BIN, "run", "--json", "--db", self.db, "--nyt", NYT, "--jhu", JHU, "--config", conf],
                                   env=env, capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn("[publish] to (or COVID_ETL_PUBLISH_TO): ", p.stderr)
                self.assertIn(message, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertFalse(os.path.exists(self.db), "nothing is loaded")

    def test_command_line(self):
        p = cli("publish", "--db", self.db)
        self.assertEqual(p.returncode, 64)
        self.assertIn("--to", p.stderr)
        p = cli("publish", "--db", self.db, "--too", self.path("site"))
        self.assertEqual(p.returncode, 64)
        self.assertIn("--to", p.stderr)
        p = cli("publish", "--db", self.path("none.db"), "--to", self.path("site"))
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertFalse(os.path.exists(self.path("site")))
        # Said once, as the command's own error (not by the server code it reads through).
        self.assertNotIn("covid-etl serve", p.stderr)
        self.assertEqual(p.stderr.count("no database at"), 1, p.stderr)
        self.assertIn("publish: the database cannot be read", p.stderr)
        p = cli("publish", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("s3://", p.stdout)


if __name__ == "__main__":
    unittest.main()
