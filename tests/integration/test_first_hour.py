"""A new user's first hour (issue 20): every stumble of it, reproduced with the real binary.

- a run whose source is unreachable says how to run from local files;
- half a local pair of sources (--nyt FILE, no --jhu) is said before anything is fetched;
- typos in sub-commands, flags and configuration keys get the nearest valid name; flags of other
  tools (--port, --since) get ours;
- export and the API take a location by name or by a FIPS code without its zero;
- progress on a terminal (a pseudo-terminal here), and none elsewhere;
- help texts with the real defaults and ranges, and --version with the libraries.
"""
import json
import os
import pty
import re
import select
import subprocess
import urllib.parse

from etl import BIN, JHU, NYT, SHARED, TempDirTest, cli, export
from test_serve import Server

STATES = os.path.join(SHARED, "nyt", "us-states.csv")
# The national series alone (--nyt not the default: no states, populations, notes or WHO series).
LOCAL_COMMAND = "covid-etl run --nyt FILE --jhu FILE\n"


class Messages(TempDirTest):
    def config(self, text):
        path = self.path("config.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unreachable_source_says_how_to_run_from_local_files(self):
        # Nothing listens on port 1 of 127.0.0.1: no answer at all, as without a network.
        conf = self.config("[extract]\nretries = 0\n")
        p = cli("run", "--config", conf, "--db", self.db, "--nyt", "http://127.0.0.1:1/us.csv",
                "--jhu", JHU)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("FAILED at extract", p.stderr)
        self.assertIn("  hint      a source could not be reached. To run from local copies of the "
                      "files instead:\n              " + LOCAL_COMMAND, p.stderr)
        # With --json the summary stays one JSON object on stdout; the hint goes to stderr.
        p = cli("run", "--json", "--config", conf, "--db", self.db, "--nyt",
                "http://127.0.0.1:1/us.csv", "--jhu", JHU)
        self.assertEqual(p.returncode, 3)
        self.assertEqual(json.loads(p.stdout)["status"], "failed")
        self.assertIn(LOCAL_COMMAND, p.stderr)

    def test_the_hint_names_the_flags_of_the_datasets_loaded(self):
        # The national series off, the world on: its unreachable WHO URL gets a hint naming --who
        # (and --states, on too), never the national series' --nyt and --jhu.
        conf = self.config("[extract]\nretries = 0\n[datasets]\nnational = false\nworld = true\n"
                           "[sources]\nwho = \"http://127.0.0.1:1/who.csv\"\n")
        p = cli("run", "--config", conf, "--db", self.db, "--states", STATES)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("              covid-etl run --states FILE --who FILE\n", p.stderr)
        self.assertIn("the WHO's WHO-COVID-19-global-data.csv", p.stderr)
        self.assertNotIn("--nyt", p.stderr)
        self.assertNotIn("--jhu", p.stderr)

    def test_no_hint_for_a_local_file_that_is_missing(self):
        p = cli("run", "--db", self.db, "--nyt", self.path("nope.csv"), "--jhu", JHU)
        self.assertEqual(p.returncode, 3)
        self.assertNotIn("hint", p.stderr)

    def test_half_a_local_pair_is_said_before_fetching(self):
        conf = self.config("[extract]\nretries = 0\n[sources]\njhu = \"http://127.0.0.1:1/jhu.csv\"\n")
        # A configured JHU source is the user's choice: no warning.
        p = cli("run", "--config", conf, "--db", self.db, "--nyt", NYT)
        self.assertNotIn("warning", p.stderr)
        # The upstream default with a local NYT file: warned, naming the flag to add, first.
        p = cli("run", "--dry-run", "--db", self.db, "--nyt", NYT,
                env={"COVID_ETL_JHU_URL": "", "no_proxy": "*"}, timeout=120)
        first = p.stderr.splitlines()[0]
        self.assertTrue(first.startswith("covid-etl: warning: --nyt is a local file but --jhu is "
                                         "not given: JHU's recoveries will be downloaded from "
                                         "https://raw.githubusercontent.com/"), first)
        self.assertIn("add --jhu FILE", first)
        p = cli("run", "--dry-run", "--config", self.config("[extract]\nretries = 0\n"),
                "--db", self.db, "--jhu", JHU)
        first = p.stderr.splitlines()[0]
        self.assertIn("--jhu is a local file but --nyt is not given", first)
        self.assertIn("add --nyt FILE --states FILE", first)

    def test_typos_get_the_nearest_name(self):
        p = cli("runn")
        self.assertEqual(p.returncode, 64)
        self.assertEqual(p.stderr.splitlines()[0],
                         "covid-etl: 'runn' is not a command (did you mean 'run'?); the commands: "
                         "run, export, history, notify, serve, daemon, publish, lambda")
        p = cli("run", "--nyy", NYT)
        self.assertEqual(p.returncode, 64)
        self.assertEqual(p.stderr.splitlines()[0],
                         "covid-etl run: unknown flag '--nyy' (did you mean '--nyt'?)")
        p = cli("history", "--limt=3")
        self.assertEqual(p.stderr.splitlines()[0],
                         "covid-etl history: unknown flag '--limt' (did you mean '--limit'?)")
        conf = self.config("[datasets]\nstate = true\n")
        p = cli("run", "--config", conf, "--db", self.db)
        self.assertEqual(p.returncode, 64)
        self.assertEqual(p.stderr.strip(),
                         f"covid-etl: {conf}:2:1: unknown key 'datasets.state' (did you mean "
                         "'states'?)")

    def test_flags_of_other_tools_get_ours(self):
        # Far from any flag by edit distance: the table of well-known aliases (app/main.cc
        # kFlagAliases) answers, for the commands that have the flag meant.
        for args, line in [
                (["serve", "--port", "8080"],
                 "covid-etl serve: unknown flag '--port' (did you mean '--listen HOST:PORT'?)"),
                (["daemon", "--host=0.0.0.0"],
                 "covid-etl daemon: unknown flag '--host' (did you mean '--listen HOST:PORT'?)"),
                (["run", "--annotations", "F"],
                 "covid-etl run: unknown flag '--annotations' (did you mean '--anomalies'?)"),
                (["export", "--since", "2021-01-01"],
                 "covid-etl export: unknown flag '--since' (did you mean '--from DATE'?)"),
                (["history", "--database", "x.db"],
                 "covid-etl history: unknown flag '--database' (did you mean '--db URL'?)"),
                (["run", "--port", "8080"], "covid-etl run: unknown flag '--port'")]:
            with self.subTest(args=args):
                p = cli(*args)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertEqual(p.stderr.splitlines()[0], line)

    def test_help_shows_defaults_and_ranges(self):
        run = cli("run", "--help").stdout
        for text in ("default data/covid.db",
                     "default https://raw.githubusercontent.com/nytimes/covid-19-data/master/us.csv",
                     "default https://raw.githubusercontent.com/datasets/covid-19/master/data/"
                     "time-series-19-covid-combined.csv"):
            self.assertIn(text, re.sub(r"\s+", " ", run))
        history = cli("history", "--help").stdout
        self.assertIn("[1 - 1000]", history)
        self.assertNotIn("1000000", history)
        p = cli("history", "--db", self.db, "--limit", "1001")
        self.assertEqual(p.returncode, 64)

    def test_version_names_the_commit_and_libraries(self):
        p = cli("--version")
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^covid-etl \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?\)$")
        self.assertRegex(lines[1], r"^SQLite 3\.\d+\.\d+ \(linked in\)$")
        self.assertRegex(lines[2], r"^libcurl \d+\.\d+\.\d+")
        self.assertRegex(lines[3], r"^libpq \d+\.\d+ \(libpq\.so\.5\)$")


class Locations(TempDirTest):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix="covid-etl-first-hour-")
        cls.shared_db = os.path.join(cls.dir, "covid.db")
        p = cli("run", "--db", cls.shared_db, "--nyt", NYT, "--jhu", JHU, "--states", STATES)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.dir, True)

    def test_export_by_name_and_by_fips_without_zero(self):
        california = export(self.shared_db, "--location", "06")
        self.assertGreater(len(california.splitlines()), 100)
        for name in ("California", "california", " CALIFORNIA ", "6"):
            self.assertEqual(export(self.shared_db, "--location", name), california, name)
        self.assertEqual(export(self.shared_db, "--location", "us"),
                         export(self.shared_db, "--location", "US"))

    def test_unknown_and_ambiguous_names_list_the_closest(self):
        p = cli("export", "--db", self.shared_db, "--location", "Califronia")
        self.assertEqual(p.returncode, 64)
        self.assertIn("covid-etl: --location: unknown location 'Califronia'; the closest: "
                      "California (06)", p.stderr)
        p = cli("export", "--db", self.shared_db, "--location", "North")
        self.assertEqual(p.returncode, 64)
        self.assertIn("unknown location 'North'; the closest: North Carolina (37); "
                      "North Dakota (38)", p.stderr)

    def test_api_takes_a_name(self):
        server = Server(self.shared_db)
        self.addCleanup(server.kill)
        status, _, by_id = server.request("/api/v1/series?location=06")
        self.assertEqual(status, 200)
        status, _, by_name = server.request("/api/v1/series?location=California")
        self.assertEqual(status, 200)
        self.assertEqual(by_name, by_id)
        status, _, body = server.request("/api/v1/series?location=" + urllib.parse.quote("Califronia"))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["message"],
                         "location: unknown location 'Califronia'; the closest: California (06) "
                         "(see /api/v1/locations)")


def real_binary():
    """The binary itself: under CTest, BIN is a launcher that records the output through a pipe,
    which is no terminal."""
    with open(BIN, "rb") as f:
        text = f.read(4096).decode("utf-8", "replace")
    m = re.search(r"record-output\.sh' '[^']*' '([^']+)'", text)
    return m.group(1) if m else BIN


class Progress(TempDirTest):
    def run_on_terminal(self, *args):
        """Runs the binary with stderr on a pseudo-terminal; (exit status, what the terminal got)."""
        controller, terminal = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVID_ETL_")}
        proc = subprocess.Popen([real_binary(), *args], stdout=subprocess.DEVNULL, stderr=terminal,
                                env=env)
        os.close(terminal)
        seen = b""
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
        os.close(controller)
        return proc.wait(timeout=60), seen.decode("utf-8", "replace")

    def test_progress_on_a_terminal_is_drawn_then_erased(self):
        status, seen = self.run_on_terminal("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU,
                                            "--states", STATES)
        self.assertEqual(status, 0, seen)
        # The first line is drawn as it starts ("nyt  21 kB of 21 kB, ... rows"), the steps after
        # the downloads too, and all of it erased at the end.
        self.assertRegex(seen, r"\rnyt  \d+ (B|kB)( of 21 kB)?(, [\d.]+ [kMG]?B/s)?, [\d,]+ rows\x1b\[K")
        self.assertRegex(seen, r"\rstates  [\d.]+ [kM]B of 2\.2 MB")
        self.assertIn("\rvalidating ", seen)
        self.assertIn("\rloading ", seen)
        # The last thing drawn is the erase ("\r" then erase-line, nothing between); what comes
        # after it (the log channel's line) is not progress.
        last = seen.rfind("\x1b[K")
        self.assertEqual(seen[last - 1], "\r", repr(seen[-200:]))
        self.assertNotIn("rows", seen[last:])

    def test_no_progress_with_json_or_quiet_or_without_a_terminal(self):
        for flag in ("--json", "--quiet"):
            status, seen = self.run_on_terminal("run", flag, "--db", self.db, "--nyt", NYT,
                                                "--jhu", JHU)
            self.assertEqual(status, 0, seen)
            self.assertNotIn("\x1b[K", seen, flag)
            self.assertNotRegex(seen, r"\r(?!\n)", flag)  # the terminal's own \r\n only
        p = cli("run", "--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn("\x1b", p.stderr)
        self.assertNotIn("\x1b", p.stdout)
