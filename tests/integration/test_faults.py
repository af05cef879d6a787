"""Faults injected into the real binary (issue 9, "Faults"): a SIGKILL at random moments of a
county load, a misbehaving HTTP server, a full disk, ten runs at once on one database, and
`serve` under load while runs commit. Everything targets 127.0.0.1 and is bounded in count and
time (each class well under two minutes on a loaded 2-core machine).

Only the command line is used to drive the binary (`run --json`, `export --location`,
`history --json`, `notify --list`); the database is looked at with `PRAGMA integrity_check`,
and with counts and sums over the documented `observations` table.

The random moments of the SIGKILL test come from a seed that is printed (stderr) and put in
every assertion message; COVID_ETL_FAULT_SEED=N replays one.

The other faults of the issue's table are tested where their code is:
  the PostgreSQL server stopped mid-run   test_postgres ServerFailures
  a notifier down                         test_notify Webhook (and Email, Sns)
  connection refused, 503/429/500, a stall in the middle of a body, the size limit
                                          test_http HttpExtraction
"""
import contextlib
import csv
import gzip
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from etl import BIN, JHU, NYT, SHARED, TempDirTest, cli, export, history, read_csv
from test_run import as_export, reference, write_nyt
from test_serve import Server

GEN = os.path.join(os.path.dirname(SHARED), "tools", "gen-nyt-like")
PY = "/usr/bin/python3"
HEADER = "date,cases,deaths,recovered\n"
_CLEAN_ENV = ("COVID_ETL_DB", "COVID_ETL_NYT_URL", "COVID_ETL_JHU_URL", "COVID_ETL_STATES_URL",
              "COVID_ETL_COUNTIES_URL", "COVID_ETL_LISTEN")


def env(extra=None):
    e = {k: v for k, v in os.environ.items() if k not in _CLEAN_ENV}
    e.update(extra or {})
    return e


def popen(*args, extra_env=None, **kw):
    return subprocess.Popen([BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(extra_env), **kw)


def finish(p, timeout=120):
    """(exit status, summary or None, stderr) of a `run --json` started with popen()."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"covid-etl did not finish within {timeout} s")
    try:
        summary = json.loads(out) if out.strip() else None
    except ValueError:
        summary = None
    return p.returncode, summary, err


def run(*args, timeout=120, **kw):
    return finish(popen("run", "--json", *args, **kw), timeout)


def integrity(db):
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as c:
        return c.execute("PRAGMA integrity_check").fetchall()


def query(db, q, params=()):
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as c:
        return c.execute(q, params).fetchall()


def copy_db(src, dst):
    """A closed SQLite database (and its WAL, if any) copied to dst, replacing what was there."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(dst + suffix)
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


def outbox(db):
    p = subprocess.run([BIN, "notify", "--db", db, "--list", "--all", "--json"], capture_output=True,
                       text=True, env=env(), timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"notify --list failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout)


# --- generated county data, two versions ------------------------------------------------------

def generate(out, counties, days, seed):
    subprocess.run([PY, GEN, out, "--counties", str(counties), "--days", str(days), "--seed", str(seed)],
                   check=True, capture_output=True, timeout=120)


def revise(src, dst, every, column):
    """Copies a CSV, adding 1 to `column` of every `every`-th data row: an upstream revision."""
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    for i, r in enumerate(rows[1:]):
        if i % every == 0:
            r[column] = str(int(r[column]) + 1)
    with open(dst, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return dst


class TwoVersions:
    """gen-nyt-like with one seed for D and D + 2 days: version B is version A plus two days
    (D // 3 is kept equal so that the generator draws the same counties), with one county row in
    20 and one state row in 20 revised (cases + 1). A run of B over A updates and inserts."""

    def __init__(self, root, counties, days):
        assert days % 3 == 0
        self.dir = root
        gen_a, gen_b = os.path.join(root, "gen-a"), os.path.join(root, "gen-b")
        generate(gen_a, counties, days, 7)
        generate(gen_b, counties, days + 2, 7)
        self.files = {
            "A": {"counties": os.path.join(gen_a, "us-counties.csv"), "states": os.path.join(gen_a, "us-states.csv")},
            "B": {"counties": revise(os.path.join(gen_b, "us-counties.csv"), os.path.join(root, "b-counties.csv"), 20, 4),
                  "states": revise(os.path.join(gen_b, "us-states.csv"), os.path.join(root, "b-states.csv"), 20, 3)},
        }
        self.codes = {r["state"]: r["fips"].zfill(2) for r in read_csv(self.files["A"]["states"])}
        self.series = {v: self._series(v) for v in ("A", "B")}
        # What the database holds after A then B: B's rows, and A's where B has no such date
        # (missing dates are kept, never deleted).
        self.series["AB"] = {loc: {**self.series["A"].get(loc, {}), **rows}
                             for loc, rows in self.series["B"].items()}
        for loc, rows in self.series["A"].items():
            self.series["AB"].setdefault(loc, rows)

    def _series(self, version):
        out = {}
        for r in read_csv(self.files[version]["counties"]):
            loc = r["fips"] or f"{self.codes[r['state']]}:{r['county']}"
            out.setdefault(loc, {})[r["date"]] = (r["cases"], r["deaths"])
        for r in read_csv(self.files[version]["states"]):
            out.setdefault(r["fips"].zfill(2), {})[r["date"]] = (r["cases"], r["deaths"])
        return out

    def export_text(self, version, location):
        rows = self.series[version][location]
        return HEADER + "".join(f"{d},{c},{de},\n" for d, (c, de) in sorted(rows.items()))

    def totals(self, version):
        """(rows, sum of cases) over every county and state: a whole-database fingerprint."""
        rows = sum(len(s) for s in self.series[version].values())
        cases = sum(int(c) for s in self.series[version].values() for c, _ in s.values())
        return rows, cases

    def args(self, version):
        return ["--counties", self.files[version]["counties"], "--states", self.files[version]["states"]]

    def sample_locations(self):
        """A county with a FIPS code, New York City, a state's Unknown and a state (California),
        each different in A and in A-then-B."""
        fips = next(l for l in sorted(self.series["A"]) if len(l) == 5 and l.startswith("06"))
        unknown = next(l for l in sorted(self.series["A"]) if l.endswith(":Unknown"))
        picked = [fips, "36:New York City", unknown, "06"]
        for loc in picked:
            assert self.export_text("A", loc) != self.export_text("AB", loc), loc
        return picked


# --- 1. SIGKILL during a county load -----------------------------------------------------------

class KillDuringCountyLoad(TempDirTest):
    KILLS = 20

    @classmethod
    def setUpClass(cls):
        cls.gen = tempfile.mkdtemp(prefix="covid-etl-faults-gen-")
        cls.addClassCleanup(shutil.rmtree, cls.gen, True)
        cls.data = TwoVersions(cls.gen, counties=600, days=210)

    def setUp(self):
        super().setUp()
        self.config = self.write("counties.toml", "[datasets]\nnational = false\nworld = false\n")
        self.tmpdir = self.path("tmpdir")  # the binary's TMPDIR: nothing may be left in it
        os.mkdir(self.tmpdir)
        seed = os.environ.get("COVID_ETL_FAULT_SEED")
        self.seed = int(seed) if seed else random.SystemRandom().randrange(1 << 32)
        print(f"\n{type(self).__name__}: seed {self.seed} (COVID_ETL_FAULT_SEED={self.seed} replays it)",
              file=sys.stderr, flush=True)

    def start(self, db, version):
        return popen("run", "--json", "--config", self.config, "--db", db, *self.data.args(version),
                     extra_env={"TMPDIR": self.tmpdir})

    def version_of(self, db, locations, context):
        """'A' or 'AB' when every location shows that version and the whole-table fingerprint
        agrees; fails on anything else (a mix, or neither)."""
        seen = set()
        for loc in locations:
            text = export(db, "--location", loc)
            v = next((v for v in ("A", "AB") if text == self.data.export_text(v, loc)), None)
            self.assertIsNotNone(v, f"{context}: export --location {loc} is neither the old nor the new data")
            seen.add(v)
        self.assertEqual(len(seen), 1, f"{context}: a mix of old and new data across locations")
        [v] = seen
        rows, cases = query(db, "SELECT count(*), sum(cases) FROM observations")[0]
        self.assertEqual((rows, cases), self.data.totals(v),
                         f"{context}: export shows version {v} but the observations table does not")
        return v

    def test_sigkill_at_random_moments_leaves_old_or_new_data(self):
        rng = random.Random(self.seed)
        template = self.path("a.db")
        code, s, err = finish(self.start(template, "A"))
        self.assertEqual((code, s and s["status"]), (0, "ok"), err)
        locations = self.data.sample_locations()
        self.assertEqual(self.version_of(template, locations, "after A"), "A")

        # Uninterrupted loads of B over A: how long one takes (the shorter of two, so that a
        # moment of load on the machine does not push the kills past the end), and that it
        # gives A-then-B.
        db = self.db
        durations = []
        for _ in range(2):
            copy_db(template, db)
            started = time.monotonic()
            code, s, err = finish(self.start(db, "B"))
            durations.append(time.monotonic() - started)
            self.assertEqual((code, s and s["status"]), (0, "ok"), err)
            self.assertGreater(s["levels"]["county"]["updated"], 0)
            self.assertEqual(self.version_of(db, locations, "after B"), "AB")
        duration = min(durations)
        print(f"  an uninterrupted load of B over A takes {duration:.3f} s ({durations})", file=sys.stderr)

        outcomes = []
        for i in range(self.KILLS):
            at = rng.uniform(0, duration)
            context = f"seed {self.seed}, kill {i + 1}/{self.KILLS} at {at:.3f} s of {duration:.3f} s"
            copy_db(template, db)
            runs_before = len(history(db))
            p = self.start(db, "B")
            time.sleep(at)
            p.send_signal(signal.SIGKILL)
            code, _, err = finish(p)
            # A kill near the end can land after the run has exited (the signal then goes to a
            # zombie): the run ended on its own, and must have ended well.
            if code != -signal.SIGKILL:
                self.assertEqual(code, 0, f"{context}: the run ended on its own, failed: {err}")

            self.assertEqual(integrity(db), [("ok",)], context)
            # Ours: none (the spool is an O_TMPFILE without a name). SQLite names its own temporary
            # files etilqs_* and unlinks each right after opening it; a kill between the two leaves
            # one (CI at 8d129d8: seed 3050684690, kill 4/20 at 0.335 s of 0.365 s). Not ours to
            # close: such a file is removed, and anything else fails the test.
            left = [f for f in os.listdir(self.tmpdir) if not f.startswith("etilqs_")]
            for f in set(os.listdir(self.tmpdir)) - set(left):
                os.remove(os.path.join(self.tmpdir, f))
            self.assertEqual(left, [], f"{context}: temporary files left behind")
            version = self.version_of(db, locations, context)
            # The killed run's record: absent (killed before it began), `running` (cut off: its
            # load was rolled back) or `ok` (it committed): the data says which.
            runs = history(db)
            killed = runs[0]["status"] if len(runs) > runs_before else None
            self.assertIn(killed, (None, "running", "ok"), context)
            self.assertEqual(killed == "ok", version == "AB",
                             f"{context}: run record {killed!r} with data version {version}")

            code, s, err = finish(self.start(db, "B"))
            self.assertEqual(code, 0, f"{context}: the next run failed: {err}")
            self.assertEqual(s["status"], "ok" if version == "A" else "unchanged", context)
            if killed == "running":  # the next run closed the record its process left open
                record = next(r for r in history(db) if r["id"] == runs[0]["id"])
                self.assertEqual(record["status"], "failed", context)
                self.assertTrue(record["error"].startswith("interrupted:"), (context, record))
            self.assertEqual(self.version_of(db, locations, f"{context}, next run"), "AB")
            self.assertEqual(integrity(db), [("ok",)], context)
            outcomes.append((round(at, 3), "new" if version == "AB" else "old", killed))

        print(f"  kills (moment s, data after the kill, killed run's record): {outcomes}", file=sys.stderr)
        # The moments are spread over the whole load: most land before the commit.
        self.assertIn("old", [o[1] for o in outcomes], f"seed {self.seed}: no kill landed before the commit")


class InterruptedRun(TempDirTest):
    """Real processes: a run killed while it waits on a silent server stays `running` until the
    next run begins, which closes its record as failed, interrupted; a run still going in another
    process is left alone."""

    def test_the_next_run_closes_a_killed_run_but_not_a_live_one(self):
        server = FaultServer("stall", b"")
        self.addCleanup(server.stop)
        slow = self.write("slow.toml", "[extract]\ntimeout_ms = 120000\nretries = 0\n")
        code, s, err = run("--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(code, 0, err)

        def start_stalled(waiting):
            p = popen("run", "--json", "--config", slow, "--db", self.db, "--nyt", server.url(), "--jhu", JHU)
            self.addCleanup(lambda: p.poll() is not None or (p.kill(), p.communicate()))
            deadline = time.monotonic() + 60
            while server.requests() < waiting:  # it has begun its run and waits on the server
                self.assertLess(time.monotonic(), deadline, "the run never reached the server")
                time.sleep(0.05)
            return p, history(self.db)[0]["id"]

        gone, gone_id = start_stalled(1)
        gone.send_signal(signal.SIGKILL)
        gone.communicate()
        self.assertEqual(history(self.db)[0]["status"], "running")  # no run has begun since
        live, live_id = start_stalled(2)
        runs = {r["id"]: r for r in history(self.db)}
        self.assertEqual((runs[gone_id]["status"], runs[live_id]["status"]), ("failed", "running"))
        self.assertTrue(runs[gone_id]["error"].startswith("interrupted: the process ended before the run did"),
                        runs[gone_id])
        self.assertTrue(runs[gone_id]["error"].endswith(f"(found by run {live_id})"), runs[gone_id])
        # ... and told of at once: a failure notification in the outbox with the record's closing
        # (the closing run is still waiting on the server: its own message is not there yet).
        told = f"covid-etl: run {gone_id} FAILED: interrupted"
        outbox = json.loads(cli("notify", "--list", "--all", "--json", "--db", self.db).stdout)
        self.assertEqual([(m["run_id"], m["event"], m["status"]) for m in outbox if m["subject"] == told],
                         [(gone_id, "failure", "pending")], outbox)

        code, s, err = run("--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual((code, s["status"]), (0, "unchanged"), err)
        self.assertEqual({r["id"]: r["status"] for r in history(self.db)}[live_id], "running")  # alive: left alone
        self.assertEqual(err.count(told), 1, err)  # this run flushed the outbox: delivered once (log channel)
        live.send_signal(signal.SIGKILL)
        live.communicate()
        code, s, err = run("--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(code, 0, err)
        self.assertEqual({r["id"]: r["status"] for r in history(self.db)}[live_id], "failed")
        self.assertIn(f"covid-etl: run {live_id} FAILED: interrupted", err)
        self.assertNotIn(told, err)  # told once, not again


# --- 2. network faults --------------------------------------------------------------------------

class FaultServer:
    """A raw TCP server on 127.0.0.1 that misbehaves the same way on every connection:
        stall  reads the request and never answers
        reset  reads the request and resets the connection (RST: SO_LINGER 0)
        short  announces the body's Content-Length, sends half of it, closes
        drip   announces the body's Content-Length, then sends one byte a second
    It records every connection: when it came, whether a request arrived, how many body bytes
    were sent, when it ended."""

    def __init__(self, mode, body):
        self.mode, self.body = mode, body
        self.lock = threading.Lock()
        self.connections = []  # dicts: accepted, request, sent, closed
        self.stopping = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path="/us.csv"):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        self.sock.close()

    def requests(self):
        with self.lock:
            return sum(1 for c in self.connections if c["request"])

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            record = {"accepted": time.monotonic(), "request": False, "sent": 0, "closed": None}
            with self.lock:
                self.connections.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn, record):
        try:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            record["request"] = True
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {len(self.body)}\r\n"
                    "\r\n").encode()
            if self.mode == "stall":
                while not self.stopping.is_set():
                    conn.settimeout(0.1)
                    try:
                        if conn.recv(4096) == b"":
                            return  # the client gave up
                    except socket.timeout:
                        pass
            elif self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.mode == "short":
                conn.sendall(head + self.body[: len(self.body) // 2])
                record["sent"] = len(self.body) // 2
            elif self.mode == "drip":
                conn.sendall(head)
                for i in range(len(self.body)):
                    conn.sendall(self.body[i:i + 1])
                    record["sent"] += 1
                    if self.stopping.wait(1.0):
                        return
        except OSError:
            pass  # the client closed: sendall fails
        finally:
            record["closed"] = time.monotonic()
            conn.close()


class NetworkFaults(TempDirTest):
    """One table: each fault, with a short timeout and 2 retries (3 attempts) on the NYT source."""

    TIMEOUT_MS, RETRIES = 1000, 2
    # mode: (what the message must say, whether each attempt lasts the whole timeout)
    FAULTS = {
        "stall": (r"Timeout was reached \(Operation timed out after \d+ milliseconds with 0 bytes received\)", True),
        "drip": (r"Timeout was reached \(Operation timed out after \d+ milliseconds with \d+ out of \d+ bytes", True),
        "reset": (r"Failure when receiving data from the peer \(Recv failure: Connection reset by peer\)", False),
        "short": (r"Transferred a partial file \(transfer closed with \d+ bytes remaining to read\)", False),
    }

    def setUp(self):
        super().setUp()
        self.config = self.write("net.toml", (
            "[extract]\n"
            f"connect_timeout_ms = {self.TIMEOUT_MS}\ntimeout_ms = {self.TIMEOUT_MS}\n"
            f"retries = {self.RETRIES}\nbackoff_ms = 10\nbackoff_max_ms = 20\n"))
        code, s, err = run("--config", self.config, "--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual((code, s["inserted"]), (0, 820), err)
        self.before = export(self.db)
        with open(NYT, "rb") as f:
            self.body = f.read()

    def test_each_fault_times_out_or_fails_retries_and_is_notified(self):
        attempts = 1 + self.RETRIES
        for mode, (message, slow) in self.FAULTS.items():
            with self.subTest(fault=mode):
                server = FaultServer(mode, self.body)
                self.addCleanup(server.stop)
                started = time.monotonic()
                code, s, err = run("--config", self.config, "--db", self.db, "--nyt", server.url(),
                                   "--jhu", JHU, timeout=90)
                elapsed = time.monotonic() - started
                self.assertEqual(code, 3, f"{mode}: {err}")
                self.assertEqual((s["status"], s["stage"], s["inserted"], s["updated"]),
                                 ("failed", "extract", 0, 0), s)
                self.assertRegex(s["message"], message)
                self.assertIn(f"(after {attempts} attempts)", s["message"])
                # The retries: seen by the server, and reported per source.
                self.assertEqual(server.requests(), attempts, mode)
                [nyt] = [src for src in s["sources"] if src["name"] == "nyt"]
                self.assertEqual(nyt["attempts"], attempts, nyt)
                # The timeouts fired: each attempt lasted about timeout_ms, never much more.
                if slow:
                    self.assertGreaterEqual(elapsed, attempts * self.TIMEOUT_MS / 1000 * 0.9)
                    deadline = time.monotonic() + 5
                    while any(c["closed"] is None for c in server.connections) and time.monotonic() < deadline:
                        time.sleep(0.05)  # the server notices the client's close within 0.1 s or 1 s
                    for c in server.connections:
                        self.assertIsNotNone(c["closed"], f"{mode}: the client never gave up")
                        self.assertLess(c["closed"] - c["accepted"], self.TIMEOUT_MS / 1000 + 8, mode)
                self.assertLess(elapsed, attempts * self.TIMEOUT_MS / 1000 + 30, mode)
                if mode == "drip":
                    self.assertTrue(all(c["sent"] >= 1 for c in server.connections), server.connections)
                # Nothing changed; the failure is recorded and notified.
                self.assertEqual(export(self.db), self.before, f"{mode} changed the data")
                self.assertEqual(history(self.db)[0]["status"], "failed")
                notes = [m for m in outbox(self.db) if m["run_id"] == s["run_id"]]
                self.assertEqual([m["event"] for m in notes], ["failure"], notes)
                self.assertIn("FAILED at extract", notes[0]["subject"])
                server.stop()
                print(f"\n  {mode}: exit {code} after {elapsed:.1f} s, {server.requests()} requests: {s['message']}",
                      file=sys.stderr)


# --- 3. disk full --------------------------------------------------------------------------------

class DiskFull(TempDirTest):
    """The load of B over A on a file system that is full (a small tmpfs, the remaining space
    taken by a filler file) or with a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored so that
    write() fails with EFBIG): exit 4, a clear message, the database intact, and the next run
    with room succeeds."""

    @classmethod
    def setUpClass(cls):
        cls.gen = tempfile.mkdtemp(prefix="covid-etl-faults-gen-")
        cls.addClassCleanup(shutil.rmtree, cls.gen, True)
        cls.data = TwoVersions(cls.gen, counties=600, days=210)

    def setUp(self):
        super().setUp()
        self.config = self.write("counties.toml", "[datasets]\nnational = false\nworld = false\n")
        self.locations = self.data.sample_locations()

    def load(self, version, db, **kw):
        return run("--config", self.config, "--db", db, *self.data.args(version), **kw)

    def exports(self, db):
        return {loc: export(db, "--location", loc) for loc in self.locations}

    def assert_failed_cleanly(self, db, before, code, s, err):
        self.assertEqual(code, 4, err)
        self.assertEqual((s["status"], s["inserted"], s["updated"]), ("failed", 0, 0), s)
        self.assertEqual(s["stage"], "load", s)
        # SQLite says "database or disk is full" (ENOSPC) but only "disk I/O error" for EFBIG.
        self.assertRegex(s["message"], r"disk is full|No space left|File too large|disk I/O error", s)
        self.assertIn("covid-etl", err)
        self.assertEqual(integrity(db), [("ok",)])
        self.assertEqual(self.exports(db), before)
        self.assertEqual(query(db, "SELECT count(*), sum(cases) FROM observations")[0], self.data.totals("A"))
        self.assertNotIn("running", [r["status"] for r in history(db)])

    def assert_next_run_succeeds(self, db):
        code, s, err = self.load("B", db)
        self.assertEqual((code, s["status"]), (0, "ok"), err)
        self.assertEqual(integrity(db), [("ok",)])
        self.assertEqual(self.exports(db), {loc: self.data.export_text("AB", loc) for loc in self.locations})

    def mount_tmpfs(self, size_mb):
        mnt = self.path("mnt")
        os.mkdir(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", mnt],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here ({p.stderr.strip()}); the RLIMIT_FSIZE test stands in")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], capture_output=True)
        return mnt

    def fill(self, directory, leave):
        """Takes all the free space of directory's file system but `leave` bytes."""
        filler = os.path.join(directory, "filler")
        with open(filler, "wb", buffering=0) as f:
            block = b"\1" * (1 << 16)
            with contextlib.suppress(OSError):  # ENOSPC: full
                while f.write(block):
                    pass
        os.truncate(filler, max(0, os.path.getsize(filler) - leave))
        st = os.statvfs(directory)
        return filler, st.f_bavail * st.f_frsize

    def test_tmpfs_full_while_loading(self):
        mnt = self.mount_tmpfs(32)
        db = os.path.join(mnt, "covid.db")
        code, s, err = self.load("A", db)
        self.assertEqual(code, 0, err)
        before = self.exports(db)
        self.assertEqual(before, {loc: self.data.export_text("A", loc) for loc in self.locations})
        filler, free = self.fill(mnt, 256 << 10)  # room for the run's record, not for the load
        self.assertLess(free, 1 << 20)
        code, s, err = self.load("B", db)
        print(f"\n  tmpfs full: exit {code}: {s and s['message']}", file=sys.stderr)
        self.assert_failed_cleanly(db, before, code, s, err)
        self.assertEqual(history(db)[0]["status"], "failed")
        os.remove(filler)
        self.assert_next_run_succeeds(db)

    def test_file_size_limit_while_loading(self):
        """RLIMIT_FSIZE of 256 KiB: room for the run's record in the WAL, not for the load. With
        the states only, the database's WAL hits it; with the counties, their temporary file."""
        for what, config in (("database", "[datasets]\nnational = false\nworld = false\n"),
                             ("temporary file", "[datasets]\nnational = false\nworld = false\n")):
            with self.subTest(hits=what):
                db = self.path(f"limit-{what[0]}.db")
                args = self.data.args("B") if what == "temporary file" else ["--states", self.data.files["B"]["states"]]
                code, s, err = self.load("A", db)
                self.assertEqual(code, 0, err)
                before = self.exports(db)
                self.assertFalse(os.path.exists(db + "-wal") and os.path.getsize(db + "-wal"), "the WAL is not empty")
                limit = 256 << 10

                def limited():
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

                code, s, err = run("--config", self.config, "--db", db, *args, preexec_fn=limited)
                print(f"\n  RLIMIT_FSIZE ({what}): exit {code}: {s and s['message']}", file=sys.stderr)
                self.assert_failed_cleanly(db, before, code, s, err)
                if what == "database":
                    self.assertIn(db, s["message"])
                else:
                    self.assertIn("temporary file", s["message"])
                self.assertEqual(history(db)[0]["status"], "failed")
                self.assert_next_run_succeeds(db)


# --- 4. ten runs at once ---------------------------------------------------------------------------

class ConcurrentRuns(TempDirTest):
    """10 `run` processes at once on one SQLite database, same sources: first with the default
    lock timeout (30 s: every run waits its turn), then with 50 ms (some fail, clearly)."""

    N = 10

    @classmethod
    def setUpClass(cls):
        cls.gen = tempfile.mkdtemp(prefix="covid-etl-faults-gen-")
        cls.addClassCleanup(shutil.rmtree, cls.gen, True)
        cls.data = TwoVersions(cls.gen, counties=300, days=150)

    def all_at_once(self, version, config):
        args = ["run", "--json", "--config", config, "--db", self.db, "--nyt", NYT, "--jhu", JHU,
                *self.data.args(version)]
        procs = [popen(*args) for _ in range(self.N)]
        return [finish(p, timeout=150) for p in procs]

    def check_round(self, results, new_rows, updated):
        """Exactly one run loads; the others are unchanged or failed on the lock."""
        loaded, unchanged, locked = [], [], []
        for code, s, err in results:
            self.assertIsNotNone(s, err)
            if code == 0 and s["status"] == "ok":
                loaded.append(s)
            elif code == 0 and s["status"] == "unchanged":
                self.assertEqual((s["inserted"], s["updated"]), (0, 0), s)
                unchanged.append(s)
            else:
                self.assertEqual((code, s["status"], s["stage"]), (4, "failed", "load"), err)
                self.assertIn("locked by another run", s["message"])
                locked.append(s)
        self.assertEqual(len(loaded), 1, [(c, s and s["status"]) for c, s, _ in results])
        # Each locked-out run's failure is told once by the log channel (stderr), though not
        # always on its own stderr: the outbox is shared, and a process flushing it delivers
        # whatever is pending, another run's message too.
        told = [line for _, _, err in results for line in err.splitlines()
                if "run FAILED" in line and "locked by another run" in line]
        self.assertEqual(len(told), len(locked), [err for _, _, err in results])
        [s] = loaded
        self.assertEqual((s["inserted"], s["updated"]), (new_rows, updated), s)
        return loaded, unchanged, locked

    def check_history(self, results):
        runs = {r["id"]: r for r in history(self.db)}
        stuck = [(r["id"], r["status"]) for r in runs.values() if r["status"] == "running"]
        self.assertEqual(stuck, [], "runs left `running` although every process has ended: "
                         + repr([(s["run_id"], s["status"], s["message"]) for _, s, _ in results]))
        for code, s, _ in results:
            if s["run_id"] is not None:
                self.assertEqual(runs[s["run_id"]]["status"], s["status"], s)
        return runs

    def test_ten_runs_at_once(self):
        locations = self.data.sample_locations()
        wait = self.write("wait.toml", "[load]\nlock_timeout_ms = 30000\n")
        a_rows = sum(len(v) for v in self.data.series["A"].values())
        results = self.all_at_once("A", wait)
        loaded, unchanged, locked = self.check_round(results, len(read_csv(NYT)) + a_rows, 0)
        self.assertEqual((len(unchanged), len(locked)), (self.N - 1, 0))
        self.check_history(results)
        self.assertEqual(export(self.db), as_export(reference(NYT, JHU)))
        for loc in locations:
            self.assertEqual(export(self.db, "--location", loc), self.data.export_text("A", loc))

        # Version B, everybody at once again, with a lock timeout of 50 ms.
        impatient = self.write("impatient.toml", "[load]\nlock_timeout_ms = 50\n")
        new = sum(len(v) for v in self.data.series["AB"].values()) - a_rows
        revised = sum(1 for loc, rows in self.data.series["B"].items() for d, v in rows.items()
                      if self.data.series["A"].get(loc, {}).get(d, v) != v)
        self.assertGreater(revised, 0)
        results = self.all_at_once("B", impatient)
        loaded, unchanged, locked = self.check_round(results, new, revised)
        print(f"\n  lock_timeout_ms = 50: 1 loaded, {len(unchanged)} unchanged, {len(locked)} locked out",
              file=sys.stderr)
        [s] = loaded
        self.assertEqual(query(self.db, "SELECT count(*), min(run_id), max(run_id) FROM revisions"),
                         [(revised, s["run_id"], s["run_id"])])
        for loc in locations:
            self.assertEqual(export(self.db, "--location", loc), self.data.export_text("AB", loc))
        self.assertEqual(export(self.db), as_export(reference(NYT, JHU)))
        self.assertEqual(query(self.db, "SELECT count(*), sum(cases) FROM observations WHERE location <> 'US'")[0],
                         self.data.totals("AB"))
        self.assertEqual(integrity(self.db), [("ok",)])
        # Last: every run that got a record has its outcome there (a run locked out records its
        # failure too, not `running` for ever).
        runs = self.check_history(results)
        self.assertEqual(sum(1 for r in runs.values() if r["status"] == "ok"), 2)


# --- 5. serve under load while runs commit ---------------------------------------------------------

WRK_SCRIPT = """
local paths = {"/api/v1/series", "/api/v1/summary", "/api/v1/runs?limit=5", "/healthz",
               "/api/v1/export.csv", "/api/v1/series?from=2021-01-01", "/"}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


class ServeWhileLoading(TempDirTest):
    """`serve` under wrk (throughput, no errors) and Python clients that check every body of
    /api/v1/series, while runs alternate between two versions of the national data: A (the first
    700 dates) and B (all 820, 50 of A's dates revised). The database is then in one of three
    states (A; B; A again over B), and every response must be exactly one of them, with all its
    arrays of one length and the daily values consistent with the cumulative ones."""

    MAX_RUNS, WRK_SECONDS, CLIENTS = 60, 8, 3

    def setUp(self):
        super().setUp()
        if not shutil.which("wrk"):
            self.skipTest("wrk is not installed (scripts/setup.sh installs it)")
        rows = read_csv(NYT)
        revised = [dict(r) for r in rows]
        for r in revised[650:700]:
            r["cases"] = str(int(r["cases"]) + 1000)
        self.nyt = {"A": write_nyt(self.path("a.csv"), rows[:700]), "B": write_nyt(self.path("b.csv"), revised)}
        a, b = reference(self.nyt["A"], JHU), reference(self.nyt["B"], JHU)
        self.states = {"A": a, "B": b, "A-over-B": {**b, **a}}

    def check_body(self, body):
        """The state the body shows ('A', 'B' or 'A-over-B'); fails on an inconsistent body."""
        doc = json.loads(body)
        arrays = ("date", "cases", "deaths", "recovered", "new_cases", "new_deaths", "new_cases_avg7",
                  "new_deaths_avg7")
        lengths = {k: len(doc[k]) for k in arrays}
        self.assertEqual(set(lengths.values()), {doc["count"]}, lengths)
        shown = {d: (c, de, r) for d, c, de, r in zip(doc["date"], doc["cases"], doc["deaths"], doc["recovered"])}
        state = next((name for name, series in self.states.items() if shown == series), None)
        self.assertIsNotNone(state, f"a body of {doc['count']} dates (last {doc['date'][-1:]}) is none of the versions")
        for i in range(1, doc["count"]):
            self.assertEqual(doc["new_cases"][i], doc["cases"][i] - doc["cases"][i - 1], doc["date"][i])
            self.assertEqual(doc["new_deaths"][i], doc["deaths"][i] - doc["deaths"][i - 1], doc["date"][i])
        return state

    def client(self, port, stop, seen, problems):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        gzip_next = False
        try:
            while not stop.is_set():
                headers = {"Accept-Encoding": "gzip"} if gzip_next else {}
                gzip_next = not gzip_next
                conn.request("GET", "/api/v1/series", headers=headers)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    problems.append(f"status {r.status}: {body[:200]!r}")
                    continue
                if r.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                try:
                    state = self.check_body(body)
                except AssertionError as e:
                    problems.append(str(e))
                    continue
                seen[state] = seen.get(state, 0) + 1
        except Exception as e:  # noqa: BLE001 (a client that dies is a failure, reported)
            problems.append(f"client error: {e!r}")
        finally:
            conn.close()

    def test_every_response_is_one_version_while_runs_commit(self):
        code, s, err = run("--db", self.db, "--nyt", self.nyt["A"], "--jhu", JHU)
        self.assertEqual(code, 0, err)
        server = Server(self.db)
        self.addCleanup(server.kill)
        script = self.write("paths.lua", WRK_SCRIPT)
        wrk = subprocess.Popen(["wrk", "-t1", "-c16", f"-d{self.WRK_SECONDS}s", "--timeout", "10s", "-s", script,
                                f"http://127.0.0.1:{server.port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: wrk.poll() is not None or wrk.kill())
        stop, seen, problems = threading.Event(), {}, []
        clients = [threading.Thread(target=self.client, args=(server.port, stop, seen, problems))
                   for _ in range(self.CLIENTS)]
        for t in clients:
            t.start()
        statuses = []
        deadline = time.monotonic() + 60
        try:  # runs alternate B, A, B, A ... for as long as wrk runs (at least 4, at most MAX_RUNS)
            while len(statuses) < self.MAX_RUNS and time.monotonic() < deadline and (
                    wrk.poll() is None or len(statuses) < 4):
                version = "B" if len(statuses) % 2 == 0 else "A"
                # A after B is 120 dates fewer: a shrink the runs are told to accept.
                code, s, err = run("--db", self.db, "--nyt", self.nyt[version], "--jhu", JHU, "--accept-shrink")
                statuses.append((code, s and s["status"]))
        finally:
            stop.set()
            for t in clients:
                t.join(60)
        out, _ = wrk.communicate(timeout=self.WRK_SECONDS + 60)
        print(f"\n  runs: {statuses}\n  series bodies by version: {seen}\n{out}", file=sys.stderr)
        self.assertEqual(problems[:5], [])
        self.assertGreaterEqual(len(statuses), 4)
        self.assertEqual({c for c, _ in statuses}, {0})
        self.assertEqual({st for _, st in statuses}, {"ok"})
        self.assertGreaterEqual(len(seen), 2, f"the clients saw one version only: {seen}")
        self.assertGreater(sum(seen.values()), 50)
        self.assertEqual(wrk.returncode, 0, out)
        m = re.search(r"(\d+) requests in", out)
        self.assertTrue(m and int(m.group(1)) > 100, out)
        self.assertNotIn("Non-2xx or 3xx responses", out)
        self.assertNotIn("Socket errors", out)
        self.assertIsNone(server.proc.poll(), "serve died")
        code, err = server.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
