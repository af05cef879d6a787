"""Shared helpers for the integration tests: where things are, and how to run the real binary.

CTest sets COVID_ETL_BIN, COVID_ETL_SHARED_DATA and COVID_ETL_FIXTURES; the defaults let a
test run straight from this folder with `/usr/bin/python3 -m unittest test_run`.
"""
import contextlib
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("COVID_ETL_BIN", os.path.join(REPO, "build", "covid-etl"))
SHARED = os.path.abspath(os.environ.get("COVID_ETL_SHARED_DATA", os.path.join(REPO, "..", "shared", "data")))
FIXTURES = os.path.abspath(os.environ.get("COVID_ETL_FIXTURES", os.path.join(REPO, "tests", "fixtures")))
NYT = os.path.join(SHARED, "nyt", "us.csv")
JHU = os.path.join(SHARED, "jhu", "time-series-19-covid-combined.csv")
SNAPSHOTS = os.path.join(SHARED, "jhu", "snapshots")

# The variables a test must not inherit from the caller's environment.
_CLEAN_ENV = ("COVID_ETL_DB", "COVID_ETL_NYT_URL", "COVID_ETL_JHU_URL", "COVID_ETL_STATES_URL",
              "COVID_ETL_COUNTIES_URL", "COVID_ETL_POPULATION_URL", "COVID_ETL_WHO_URL",
              "COVID_ETL_ANOMALIES_URL")


def cli(*args, env=None, cwd=None, timeout=120):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    full_env = {k: v for k, v in os.environ.items() if k not in _CLEAN_ENV}
    full_env.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=timeout)


def run_json(db, nyt=NYT, jhu=JHU, *extra, env=None):
    """One `run --json`; returns (exit status, summary dict, stderr)."""
    p = cli("run", "--json", "--db", db, "--nyt", nyt, "--jhu", jhu, *extra, env=env)
    summary = json.loads(p.stdout) if p.stdout.strip() else None
    return p.returncode, summary, p.stderr


def export(db, *extra):
    p = cli("export", "--db", db, *extra)
    if p.returncode != 0:
        raise AssertionError(f"export failed ({p.returncode}): {p.stderr}")
    return p.stdout


def history(db):
    p = cli("history", "--json", "--db", db)
    if p.returncode != 0:
        raise AssertionError(f"history failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


class TempDirTest(unittest.TestCase):
    """A test with a fresh temporary directory, self.tmp, and a database path in it, self.db."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "covid.db")

    def path(self, name):
        return os.path.join(self.tmp, name)

    # The two ways a test looks at the database beside the binary; a test class for another
    # store (test_postgres.py) overrides both.
    def sql(self, query, params=()):
        """The rows of one query on the store's tables (sqlite3 placeholders: ?)."""
        with contextlib.closing(sqlite3.connect(self.db)) as c:
            return c.execute(query, params).fetchall()

    def sql_write(self, statement):
        """Changes the store's tables behind the binary's back (to stage a fault or an old state)."""
        with contextlib.closing(sqlite3.connect(self.db)) as c:
            c.execute(statement)
            c.commit()

    def store_exists(self):
        return os.path.exists(self.db)

    def new_database(self):
        """Starts the test over on an empty database."""
        os.remove(self.db)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return p
