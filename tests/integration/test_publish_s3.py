"""`covid-etl publish --to s3://...` against a real S3-compatible server on loopback: s3rver from
npm (tests/integration/s3server.py; tests/s3rver/start.js checks every SigV4 signature with the
key pair of fake_secrets.py). The objects are read back over plain HTTP, as a viewer's browser
or a CDN reads them; PUTs are counted in s3rver's request log. (The page itself in Chromium from
the bucket: tests/browser/publish.test.mjs with COVID_ETL_PUBLISH_TARGET=s3, CTest's
browser.publish_s3.)
"""
import gzip
import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from etl import BIN, JHU, NYT, SHARED, TempDirTest, cli, run_json
from fake_secrets import AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
from s3server import S3Server

BUCKET = "site"
PREFIX = "dash"


def http_get(url):
    """(status, headers with lower-cased names, body as stored), no decoding, no signature."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class S3TestCase(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.server = S3Server(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, buckets=(BUCKET,)).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        super().setUp()
        self.server.clear()
        self.prefix = f"{PREFIX}-{self._testMethodName[-40:]}"  # one folder of the bucket per test

    def dest(self, prefix=None, endpoint=None):
        return f"s3://{BUCKET}/{prefix or self.prefix}?endpoint={endpoint or self.server.url()}"

    def env(self, **extra):
        # s3rver expects us-east-1 when no region is given; the fake session token is sent too.
        return {"AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
                "AWS_SESSION_TOKEN": AWS_SESSION_TOKEN, "AWS_REGION": "", "AWS_DEFAULT_REGION": "", **extra}

    def publish(self, dest=None, env=None, expect=0):
        p = cli("publish", "--json", "--db", self.db, "--to", dest or self.dest(), env=env or self.env())
        self.assertEqual(p.returncode, expect, p.stderr)
        return json.loads(p.stdout) if expect == 0 else p

    def object_url(self, key):
        return f"{self.server.url()}{BUCKET}/{self.prefix}/{key}"

    def stored(self):
        """{key: sha256 of the stored bytes} of this test's folder of the bucket."""
        out = {}
        for key in self.server.keys(BUCKET):
            if key.startswith(self.prefix + "/"):
                with open(self.server.object_path(BUCKET, key), "rb") as f:
                    out[key[len(self.prefix) + 1:]] = hashlib.sha256(f.read()).hexdigest()
        return out

    def load(self, nyt=NYT):
        code, summary, err = run_json(self.db, nyt, JHU)
        self.assertEqual(code, 0, err)
        return summary

    def without_last_day(self, days=1):
        """A copy of the national file without its last `days` dates: the day(s) before."""
        with open(NYT) as f:
            lines = f.readlines()
        dropped = sorted({l.split(",")[0] for l in lines[1:]})[-days:]
        path = self.path(f"us-before-{days}.csv")
        with open(path, "w") as f:
            f.writelines(l for l in lines if l.split(",")[0] not in dropped)
        return path

    def manifest(self):
        with open(self.server.object_path(BUCKET, f"{self.prefix}/publish-manifest.json"), "rb") as f:
            return json.loads(f.read())

    def viewer_site(self, index=None):
        """{request key: object bytes} as a viewer reads the site over plain HTTP (with `index`: the
        data index that viewer loaded before)."""
        if index is None:
            status, headers, body = http_get(self.object_url("data/index.json"))
            self.assertEqual(status, 200)
            index = json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)
        site = {}
        for request, keys in index["objects"].items():
            for key in keys if isinstance(keys, list) else [keys]:
                status, _, data = http_get(self.object_url(key))
                self.assertEqual(status, 200, f"{request} -> {key}: HTTP {status}")
                site[request] = site.get(request, b"") + data
        return site

    def viewer_index(self):
        status, headers, body = http_get(self.object_url("data/index.json"))
        self.assertEqual(status, 200)
        return json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)


class PublishToBucket(S3TestCase):
    def test_a_full_publish_is_readable_over_plain_http_with_its_headers(self):
        self.load()
        report = self.publish()
        self.assertGreater(report["objects"], 10)
        self.assertEqual(report["written"], report["objects"])
        puts = self.server.requests("PUT")
        self.assertTrue(all(status == 200 for _, _, status in puts), puts)
        # Every object of the site, plus the manifest (written before and after the objects).
        self.assertEqual(len({path for _, path, _ in puts}), report["objects"] + 1)
        status, headers, body = http_get(self.object_url("index.html"))
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"), headers)
        self.assertEqual(headers["cache-control"], "public, max-age=60")
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertIn(b"<html", gzip.decompress(body).lower())
        # The data index, then a content-addressed data object it names: immutable, gzipped JSON.
        status, headers, body = http_get(self.object_url("data/index.json"))
        self.assertEqual(status, 200)
        index = json.loads(gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body)
        key = index["objects"]["series?location=US"][0]  # its history (and its level's recent rows)
        status, headers, body = http_get(self.object_url(key))
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"].split(";")[0], "application/json")
        self.assertEqual(headers["cache-control"], "public, max-age=31536000, immutable")
        self.assertEqual(headers.get("content-encoding"), "gzip")
        self.assertIn(b'"US"', gzip.decompress(body))
        # What the bucket holds is what the report says was written.
        self.assertEqual(len(self.stored()), report["objects"] + 1)

    def test_an_unchanged_publish_writes_nothing_and_an_absent_manifest_is_a_first_publish(self):
        self.load()
        first = self.publish()
        gets = self.server.requests("GET")
        self.assertEqual([(p, s) for _, p, s in gets], [(f"/{BUCKET}/{self.prefix}/publish-manifest.json", 404)])
        self.server.clear()
        second = self.publish()
        self.assertEqual((second["written"], second["deleted"]), (0, 0), second)
        self.assertEqual(second["unchanged"], first["objects"])
        self.assertEqual(self.server.requests("PUT"), [])

    def test_after_a_one_day_run_only_the_changed_objects_are_written(self):
        self.load(self.without_last_day())
        full = self.publish()
        before = self.stored()
        self.load(NYT)
        self.server.clear()
        again = self.publish()
        after = self.stored()
        changed = {k for k in after if before.get(k) != after[k]}
        puts = {path[len(f"/{BUCKET}/{self.prefix}/"):] for _, path, _ in self.server.requests("PUT")}
        # Written: exactly the objects whose bytes changed (the manifest among them), no more.
        self.assertEqual(puts, changed)
        self.assertEqual(again["written"] + 1, len(changed))
        self.assertLess(again["written"], full["objects"] / 2, again)
        self.assertIn("data/index.json", puts)
        # Objects of the day before are kept one more publish; nothing is deleted yet.
        self.assertEqual(again["deleted"], 0)
        self.assertEqual(self.server.requests("DELETE"), [])
        self.assertEqual(len(after), again["objects"] + 1 + len(self.manifest()["previous"]))

    def test_a_page_left_open_across_two_publishes_still_finds_its_objects(self):
        self.load(self.without_last_day(2))
        self.publish()
        first_index = self.viewer_index()
        first = self.viewer_site(first_index)  # a page loaded now, left open
        self.load(self.without_last_day(1))
        second = self.publish()
        self.assertGreater(second["written"], 0)
        self.assertEqual(second["deleted"], 0)
        # After one more publish, the page's index still finds every object, with its bytes.
        self.assertEqual(self.viewer_site(first_index), first)
        second_index = self.viewer_index()
        self.assertNotEqual(second_index, first_index)
        self.load(NYT)
        self.server.clear()
        third = self.publish()
        # After two, what only the first index named is gone (deleted after the new index was in
        # place), and the second index's objects are all there.
        keys = lambda ix: {k for v in ix["objects"].values() for k in (v if isinstance(v, list) else [v])}
        only_first = keys(first_index) - keys(second_index) - keys(self.viewer_index())
        self.assertTrue(only_first)
        self.assertEqual(third["deleted"], len(only_first))
        deleted = {p[len(f"/{BUCKET}/{self.prefix}/"):] for _, p, _ in self.server.requests("DELETE")}
        self.assertEqual(deleted, only_first)
        order = [(m, p) for m, p, _ in self.server.requests() if m in ("PUT", "DELETE")]
        index_put = order.index(("PUT", f"/{BUCKET}/{self.prefix}/data/index.json"))
        self.assertTrue(all(i > index_put for i, (m, _) in enumerate(order) if m == "DELETE"), order)
        self.viewer_site(second_index)


class PublishFailures(S3TestCase):
    def assert_site_unchanged(self, before):
        self.assertEqual(self.stored(), before)

    def published_site(self):
        self.load(self.without_last_day())
        self.publish()
        self.load(NYT)  # a new day in the database, not yet published
        with open(self.db, "rb") as f:
            database = hashlib.sha256(f.read()).hexdigest()
        self.server.clear()
        return self.stored(), database

    def database(self):
        with open(self.db, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def test_a_wrong_key_id_is_refused_clearly_and_changes_nothing(self):
        site, database = self.published_site()
        p = self.publish(env=self.env(AWS_ACCESS_KEY_ID="AKIAWRONGKEYID00QQQQ"), expect=3)
        self.assertIn("the credentials were refused (access key id ...QQQQ, from AWS_ACCESS_KEY_ID): "
                      "InvalidAccessKeyId", p.stderr)
        self.assertNotIn(AWS_SECRET_ACCESS_KEY, p.stderr + p.stdout)
        self.assert_site_unchanged(site)
        self.assertEqual(self.database(), database)
        self.assertEqual([r for r in self.server.requests() if r[0] in ("PUT", "DELETE")], [])

    def test_a_wrong_secret_fails_the_signature_check_clearly_and_changes_nothing(self):
        site, database = self.published_site()
        p = self.publish(env=self.env(AWS_SECRET_ACCESS_KEY="not-the-secret-f4k3/x+y"), expect=3)
        self.assertIn("the credentials were refused (access key id ...9C1E, from AWS_ACCESS_KEY_ID): "
                      "SignatureDoesNotMatch", p.stderr)
        self.assertNotIn("not-the-secret-f4k3", p.stderr + p.stdout)
        self.assertNotIn(AWS_ACCESS_KEY_ID, p.stderr + p.stdout)
        self.assert_site_unchanged(site)
        self.assertEqual(self.database(), database)
        # Refused at the first request (reading the manifest), and not retried.
        self.assertEqual(len(self.server.requests()), 1, self.server.requests())

    def test_an_unreachable_endpoint_is_named_and_changes_nothing(self):
        site, database = self.published_site()
        import socket
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = self.publish(dest=self.dest(endpoint=f"http://127.0.0.1:{port}/"), expect=3)
        self.assertIn(f"cannot reach http://127.0.0.1:{port}/", p.stderr)
        self.assertIn("gave up after 6 attempts", p.stderr)
        self.assert_site_unchanged(site)
        self.assertEqual(self.database(), database)

    def test_no_such_bucket_and_missing_credentials(self):
        self.load()
        p = self.publish(dest=f"s3://no-such-bucket/x?endpoint={self.server.url()}", expect=3)
        self.assertIn("no such bucket 'no-such-bucket'", p.stderr)
        env = self.env()
        del env["AWS_SECRET_ACCESS_KEY"]
        p = cli("publish", "--db", self.db, "--to", self.dest(),
                env={**{k: v for k, v in env.items()}, "AWS_SECRET_ACCESS_KEY": ""})
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY is not set", p.stderr)
        p = cli("publish", "--db", self.db, "--to", "s3://site?regoin=x", env=self.env())
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("unknown parameter 'regoin'", p.stderr)


class PublishKilled(S3TestCase):
    """A publish killed (SIGKILL) while it writes leaves the previous version whole for viewers:
    the data index a viewer reads is the old one, and every object it names is there with its
    old bytes; the next publish completes the new version and removes what the killed one left."""

    def test_a_publish_killed_midway_leaves_the_previous_version_whole(self):
        self.load(self.without_last_day())
        self.publish()
        before = self.viewer_site()
        # A run that adds the states: many new objects, so the kill lands while they are written.
        code, _, err = run_json(self.db, NYT, JHU, "--states", os.path.join(SHARED, "nyt", "us-states.csv"))
        self.assertEqual(code, 0, err)
        self.server.clear()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COVID_ETL_"))}
        env.update(self.env())
        p = subprocess.Popen([BIN, "publish", "--db", self.db, "--to", self.dest()], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(self.server.requests("PUT")) < 12 and p.poll() is None and time.monotonic() < deadline:
            pass
        p.send_signal(signal.SIGKILL)
        p.wait()
        paths = [path for _, path, _ in self.server.requests("PUT")]
        self.assertGreaterEqual(len(paths), 12, "the publish ended before it could be killed")
        self.assertNotIn(f"/{BUCKET}/{self.prefix}/data/index.json", paths,
                         "killed too late: the new index was already written")
        self.assertEqual(self.viewer_site(), before)
        # The next publish completes the new version: the states are there, nothing is left over.
        report = self.publish()
        after = self.viewer_site()
        self.assertIn("series?location=06", after)
        self.assertEqual(len(self.stored()), report["objects"] + 1 + len(self.manifest()["previous"]))
