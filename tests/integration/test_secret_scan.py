"""The secrets scan can fail, and what it scans is really there.

ScannerSelfCheck plants each fake secret, in each form the scanner knows, in files and in an
SQLite database, and checks that the scanner (secret_scan.py, run by CTest as secrets.scan after
every integration test) finds each one and names the file, and passes a clean tree. Recording
checks, inside this test's own folder of artifacts, the machinery the scan relies on: the fake
secrets are in the environment, the binary's output is recorded, deleted databases are kept.
"""
import base64
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import uuid

import artifacts
import secret_scan
from etl import BIN, cli
from fake_secrets import ENV as SECRETS

HERE = os.path.dirname(os.path.abspath(__file__))


class ScannerSelfCheck(unittest.TestCase):
    def setUp(self):
        # The secrets planted here are not artifacts: the marker keeps the folder's databases out
        # of the scan of the whole suite (only the scan of self.tmp below sees them).
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-scan-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(os.path.join(self.tmp, artifacts.PLANTED), "w") as f:
            f.write("planted by test_secret_scan.py\n")

    def scan(self, root):
        return subprocess.run([sys.executable, os.path.join(HERE, "secret_scan.py"), root],
                              capture_output=True, text=True, timeout=120)

    def test_the_built_in_self_check_passes(self):
        self.assertEqual(secret_scan.self_check(), [])

    def test_every_secret_is_found_in_every_form_and_its_file_named(self):
        expected = set()
        for name, value in SECRETS.items():
            for form, candidates in secret_scan.forms(value).items():
                for i, candidate in enumerate(candidates):
                    file = os.path.join(self.tmp, f"{name}-{form}-{i}.log")
                    with open(file, "wb") as f:
                        f.write(b"2026-01-01 something happened: <" + candidate + b"> and more\n")
                    expected.add((file, name, form))
        findings, files, _ = secret_scan.scan_tree(self.tmp)
        self.assertEqual(files, len(expected) + 1)  # and the marker file
        self.assertLessEqual(expected, {(f.file, f.secret, f.form) for f in findings})
        # Each form is really an encoding of the secret (not a pattern that matches anything).
        forms = secret_scan.forms(SECRETS["AWS_SECRET_ACCESS_KEY"])
        self.assertIn(b"aws-secret-f4k3%2FZq8%2BLm2Wx9%2FPt4Rb0", forms["url"])
        encoded = base64.b64encode(b"x" + SECRETS["AWS_SECRET_ACCESS_KEY"].encode() + b"yz")
        self.assertTrue(any(fragment in encoded for fragment in forms["base64"]))

    def test_a_secret_inside_a_database_row_is_found(self):
        db = os.path.join(self.tmp, "covid.db")
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, error TEXT, sources BLOB)")
        token = SECRETS["COVID_ETL_TRIGGER_TOKEN"]
        con.execute("INSERT INTO runs (error, sources) VALUES (?, ?)",
                    ("z" * 9000 + token + "z" * 9000, b"\x00\x01" + SECRETS["SMTP_PASSWORD"].encode()))
        con.commit()
        con.close()
        findings, _, databases = secret_scan.scan_tree(self.tmp)
        self.assertEqual(databases, 1)
        where = {(f.secret, f.where) for f in findings}
        self.assertIn(("COVID_ETL_TRIGGER_TOKEN", "table runs"), where)
        self.assertIn(("SMTP_PASSWORD", "table runs"), where)

    def test_the_scan_fails_naming_the_file_of_a_planted_leak(self):
        output = os.path.join(self.tmp, "integration.test_x.Planted", "output")
        os.makedirs(output)
        leak = os.path.join(output, "1-run.stderr")
        with open(leak, "w") as f:
            f.write("covid-etl: cannot connect to postgresql://covid:"
                    + SECRETS["COVID_ETL_TEST_PG_PASSWORD"].replace("/", "%2F").replace("+", "%2B") + "@127.0.0.1\n")
        with open(os.path.join(output, "2-run.stdout"), "w") as f:
            f.write('{"status": "ok"}\n')
        p = self.scan(self.tmp)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(f"LEAK: {leak}: COVID_ETL_TEST_PG_PASSWORD (url)", p.stdout)
        self.assertNotIn("2-run.stdout", p.stdout)

    def test_a_clean_tree_passes_and_one_with_nothing_recorded_fails(self):
        output = os.path.join(self.tmp, "integration.test_x.Clean", "output")
        os.makedirs(output)
        with open(os.path.join(output, "1-run.stdout"), "w") as f:
            f.write("covid-etl run 1: ok\n")
        p = self.scan(self.tmp)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("self-check passed", p.stdout)
        self.assertIn("1 recorded outputs", p.stdout)
        shutil.rmtree(output)
        p = self.scan(self.tmp)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("nothing of", p.stderr.replace("none of the binary's output", "nothing of"))


@unittest.skipUnless(artifacts.enabled(), "artifacts are kept only under CTest (COVID_ETL_TEST_ARTIFACTS)")
class Recording(unittest.TestCase):
    def test_the_fake_secrets_are_in_the_environment(self):
        for name, value in SECRETS.items():
            self.assertEqual(os.environ.get(name), value, name)

    def test_the_output_of_the_binary_is_recorded_and_its_exit_status_kept(self):
        marker = f"/nonexistent-{uuid.uuid4().hex}/covid.db"
        p = cli("export", "--db", marker)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn(marker, p.stderr)
        recorded = artifacts.wait_for_output(marker.encode())
        self.assertIsNotNone(recorded, f"no recorded output holds {marker} ({BIN} is not the recording wrapper?)")
        self.assertTrue(recorded.endswith("-export.stderr"), recorded)
        with open(recorded, encoding="utf-8") as f:
            self.assertEqual(f.read(), p.stderr)

    def test_a_database_in_a_deleted_folder_is_kept(self):
        folder = tempfile.mkdtemp(prefix="covid-etl-keep-")
        marker = uuid.uuid4().hex
        con = sqlite3.connect(os.path.join(folder, "kept.db"))
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("CREATE TABLE t (v TEXT)")
        con.execute("INSERT INTO t VALUES (?)", (marker,))
        con.commit()
        before = set(os.listdir(artifacts.folder("databases")))
        shutil.rmtree(folder)  # what every test does with its temporary folder
        con.close()
        new = set(os.listdir(artifacts.folder("databases"))) - before
        self.assertEqual(len(new), 1, new)
        copy = os.path.join(artifacts.folder("databases"), new.pop())
        self.assertEqual(sqlite3.connect(copy).execute("SELECT v FROM t").fetchall(), [(marker,)])
        self.assertFalse(os.path.exists(folder))


if __name__ == "__main__":
    unittest.main()
