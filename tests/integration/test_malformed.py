"""Malformed inputs: each is rejected at validation as file:line:column and nothing is loaded.

The fixtures are tests/fixtures/malformed/*.csv (tiny files; `* -text` keeps their bytes as-is).
Each replaces one source; the other source is the real file from the shared data.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("COVID_ETL_BIN", os.path.join(REPO, "build", "covid-etl"))
SHARED = os.environ.get("COVID_ETL_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
FIXTURES = os.environ.get("COVID_ETL_FIXTURES", os.path.join(REPO, "tests", "fixtures"))
MALFORMED = os.path.abspath(os.path.join(FIXTURES, "malformed"))
REAL = {
    "nyt": os.path.abspath(os.path.join(SHARED, "nyt", "us.csv")),
    "jhu": os.path.abspath(os.path.join(SHARED, "jhu", "time-series-19-covid-combined.csv")),
}

# (fixture, source it replaces, expected line, expected column or None, text in the message).
# Lines are 1-based physical lines (the header is line 1); columns are 1-based byte columns of
# the offending field (for a missing field: just past the end of the row).
CASES = [
    ("nyt-bad-date-text.csv", "nyt", 3, 1, "YYYY-MM-DD"),
    ("nyt-date-feb-30.csv", "nyt", 4, 1, "not a calendar date"),
    ("nyt-date-feb-29-non-leap.csv", "nyt", 4, 1, "not a calendar date"),
    ("nyt-date-not-zero-padded.csv", "nyt", 4, 1, "YYYY-MM-DD"),
    ("nyt-date-no-dashes.csv", "nyt", 4, 1, "YYYY-MM-DD"),
    ("nyt-date-slashes.csv", "nyt", 4, 1, "YYYY-MM-DD"),
    ("nyt-date-future.csv", "nyt", 6, 1, "in the future"),
    ("nyt-bom-mid-file.csv", "nyt", 4, 1, "YYYY-MM-DD"),
    ("nyt-negative-cases.csv", "nyt", 4, 12, "negative"),
    ("nyt-negative-deaths.csv", "nyt", 5, 14, "negative"),
    ("nyt-cases-trailing-letter.csv", "nyt", 4, 12, "not a whole number"),
    ("nyt-cases-plus-sign.csv", "nyt", 4, 12, "not a whole number"),
    ("nyt-cases-leading-space.csv", "nyt", 4, 12, "not a whole number"),
    ("nyt-cases-exponent.csv", "nyt", 4, 12, "not a whole number"),
    ("nyt-cases-thousands-separator.csv", "nyt", 4, 12, "not a whole number"),
    ("nyt-cases-2pow53-plus-1.csv", "nyt", 4, 12, "larger than 2^53"),
    ("nyt-cases-2pow63.csv", "nyt", 4, 12, "larger than 2^53"),
    ("nyt-deaths-empty.csv", "nyt", 5, 14, "empty"),
    ("nyt-missing-deaths-column.csv", "nyt", 1, None, "'deaths'"),
    ("nyt-header-capitalised.csv", "nyt", 1, None, "missing required column 'date'"),
    ("nyt-header-repeated-name.csv", "nyt", 1, 19, "appears twice"),
    ("nyt-empty.csv", "nyt", None, None, "empty"),
    ("nyt-header-only.csv", "nyt", 1, None, "no data rows"),
    ("nyt-html-page.csv", "nyt", 1, 1, "HTML"),
    ("nyt-json-body.csv", "nyt", 1, 1, "JSON"),
    ("nyt-gzip-body.csv", "nyt", 1, 1, "gzip"),
    ("nyt-truncated-last-line.csv", "nyt", 6, None, "truncated"),
    ("nyt-unterminated-quote.csv", "nyt", 4, 12, "unterminated"),
    ("nyt-stray-quote.csv", "nyt", 4, 13, "quote"),
    ("nyt-duplicate-date.csv", "nyt", 5, 1, "appears twice (first on line 3)"),
    ("nyt-too-few-fields.csv", "nyt", 4, 13, "expected 3 fields"),
    ("nyt-too-few-fields-quoted.csv", "nyt", 4, 15, "expected 3 fields"),
    ("nyt-too-many-fields.csv", "nyt", 4, 16, "expected 3 fields"),
    ("nyt-too-many-fields-after-multiline-quote.csv", "nyt", 5, 5, "expected 3 fields"),
    ("nyt-cr-line-ends.csv", "nyt", 1, 18, "carriage return"),
    ("nyt-nul-byte.csv", "nyt", 4, 12, "NUL"),
    ("jhu-us-bad-date.csv", "jhu", 7, 1, "not a calendar date"),
    ("jhu-negative-recovered.csv", "jhu", 7, 18, "negative"),
    ("jhu-recovered-not-number.csv", "jhu", 7, 18, "'abc' is not a whole number"),
    ("jhu-missing-recovered-column.csv", "jhu", 1, None, "'Recovered'"),
    ("jhu-duplicate-us-date.csv", "jhu", 8, 1, "appears twice (first on line 4)"),
    ("jhu-multiline-note-then-bad-recovered.csv", "jhu", 4, 10, "'abc' is not a whole number"),
    ("jhu-nul-in-skipped-row.csv", "jhu", 3, 19, "NUL"),
]


def run_etl(db, nyt=REAL["nyt"], jhu=REAL["jhu"], as_json=True):
    args = [BIN, "run", "--nyt", nyt, "--jhu", jhu, "--db", db] + (["--json"] if as_json else [])
    return subprocess.run(args, capture_output=True, timeout=120)


def export(db):
    return subprocess.run([BIN, "export", "--db", db], capture_output=True, check=True, timeout=60).stdout


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-test-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.db = os.path.join(self.tmp, "covid.db")

    def run_json(self, **sources):
        p = run_etl(self.db, **sources)
        return p, json.loads(p.stdout)


class MalformedInputs(TempDirTest):
    def setUp(self):
        super().setUp()
        p = run_etl(self.db)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.before = export(self.db)
        self.assertGreater(self.before.count(b"\n"), 800)

    def assert_rejected(self, path, source, line, column, message):
        p, summary = self.run_json(**{source: path})
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(summary["status"], "failed")
        self.assertEqual(summary["stage"], "validate")
        self.assertGreaterEqual(summary["error_count"], 1)
        first = summary["errors"][0]
        self.assertEqual(first["file"], path)
        self.assertEqual(first["line"], line, first)
        if column is not None:
            self.assertEqual(first["column"], column, first)
        self.assertIn(message, first["message"])

        text = run_etl(self.db, as_json=False, **{source: path})
        self.assertEqual(text.returncode, 2)
        where = path + "".join(f":{n}" for n in (line, column) if n is not None) + ":"
        self.assertIn(where, text.stderr.decode("utf-8", "replace"))

        self.assertEqual(export(self.db), self.before, "a failed run changed the database")
        return summary

    def test_each_malformed_file_is_rejected(self):
        names = {c[0] for c in CASES}
        self.assertEqual(len(names), len(CASES))
        for name, source, line, column, message in CASES:
            with self.subTest(file=name):
                self.assert_rejected(os.path.join(MALFORMED, name), source, line, column, message)

    def test_every_fixture_is_in_the_table(self):
        on_disk = {n for n in os.listdir(MALFORMED) if n.endswith(".csv")}
        self.assertEqual(on_disk, {c[0] for c in CASES})

    def test_error_list_is_capped_but_counted(self):
        path = os.path.join(self.tmp, "us.csv")
        with open(path, "w") as f:
            f.write("date,cases,deaths\n")
            for day in range(60):
                f.write(f"2020-{1 + day // 28:02d}-{1 + day % 28:02d},x{day},0\n")
        summary = self.assert_rejected(path, "nyt", 2, 12, "not a whole number")
        self.assertEqual(summary["error_count"], 60)
        self.assertLessEqual(len(summary["errors"]), 50)


class CumulativeDecrease(TempDirTest):
    def test_a_count_going_down_is_a_warning_not_an_error(self):
        path = os.path.join(self.tmp, "us.csv")
        with open(path, "w") as f:
            f.write("date,cases,deaths\n2020-01-21,1,0\n2020-01-22,1,0\n2020-01-23,5,0\n"
                    "2020-01-24,4,0\n2020-01-25,6,0\n")
        p, summary = self.run_json(nyt=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(summary["status"], "ok")
        self.assertEqual(summary["error_count"], 0)
        self.assertEqual(summary["errors"], [])
        self.assertGreaterEqual(summary["warnings"], 1)
        ours = [w for w in summary["warning_samples"] if w["file"] == path]
        self.assertEqual(len(ours), 1, summary["warning_samples"])
        self.assertEqual((ours[0]["line"], ours[0]["column"]), (5, 12))
        self.assertIn("went down", ours[0]["message"])
        self.assertIn(b"\n2020-01-24,4,0,", export(self.db))


if __name__ == "__main__":
    unittest.main()
