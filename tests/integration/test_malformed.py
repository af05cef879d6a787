"""Malformed inputs: each is rejected at validation as file:line:column and nothing is loaded.

The corpus is tests/fixtures/malformed/ (small files; `* -text` keeps their bytes as they are),
one file per defect, named after the dataset it replaces: nyt-* (national us.csv), states-*
(us-states.csv), counties-* (us-counties.csv) and jhu-* (the JHU combined file). CASES below gives
each one's expected line, column and message. A 10 MB line is generated at test time rather than
committed, and the bodies that only a server sends (an empty 200, HTML, JSON, gzip bytes without
Content-Encoding) are served over real HTTP on 127.0.0.1 (MalformedOverHttp).

For every input: the run exits with status 2 at stage validate; its first error names the file,
line and column (in `run --json` and in the text summary on stderr); every row of the data tables
is the same before and after, read from the database itself (good data of every level is loaded
first), and `export` prints the same bytes for the nation, a state and two counties after all the
inputs of a test; and the outbox holds a `failure` notification for the run.
"""
import contextlib
import gzip
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
SHARED = os.environ.get("COVID_ETL_SHARED_DATA", os.path.join(REPO, "..", "shared", "data"))
FIXTURES = os.environ.get("COVID_ETL_FIXTURES", os.path.join(REPO, "tests", "fixtures"))
MALFORMED = os.path.abspath(os.path.join(FIXTURES, "malformed"))
REAL = {
    "nyt": os.path.abspath(os.path.join(SHARED, "nyt", "us.csv")),
    "jhu": os.path.abspath(os.path.join(SHARED, "jhu", "time-series-19-covid-combined.csv")),
}

# (fixture, expected line, expected column, text in the message). The source it replaces is the
# prefix of its name (nyt, jhu, states, counties). Lines are 1-based physical lines (the header
# is line 1); columns are 1-based byte columns of the offending field (of the byte, for CSV
# errors such as a NUL or a lone CR; just past the end of the row for a missing field; 1:1 for
# a file that is not CSV at all; the line after the header for a file without data rows).
CASES = [
    # --- NYT national: date,cases,deaths ---------------------------------------------------
    ("nyt-bad-date-text.csv", 3, 1, "YYYY-MM-DD"),
    ("nyt-date-feb-30.csv", 4, 1, "'2020-02-30' is not a calendar date"),
    ("nyt-date-feb-29-non-leap.csv", 4, 1, "not a calendar date"),
    ("nyt-date-not-zero-padded.csv", 4, 1, "'2020-1-5' is not a date in YYYY-MM-DD form"),
    ("nyt-date-no-dashes.csv", 4, 1, "'20200105' is not a date in YYYY-MM-DD form"),
    ("nyt-date-slashes.csv", 4, 1, "'2020/01/05' is not a date in YYYY-MM-DD form"),
    ("nyt-date-future.csv", 6, 1, "in the future"),
    ("nyt-date-invalid-utf8.csv", 4, 1, "'2020-01-2\\xb3' is not a date"),
    ("nyt-bom-mid-file.csv", 4, 1, "byte order mark (U+FEFF) starts this line"),
    ("nyt-files-joined-with-bom.csv", 4, 1, "files joined together"),
    ("nyt-negative-cases.csv", 4, 12, "'-5' is negative"),
    ("nyt-negative-deaths.csv", 5, 14, "negative"),
    ("nyt-deaths-minus-zero.csv", 5, 14, "'-0' has a minus sign"),
    ("nyt-cases-trailing-letter.csv", 4, 12, "not a whole number"),
    ("nyt-cases-plus-sign.csv", 4, 12, "'+5' is not a whole number"),
    ("nyt-cases-leading-space.csv", 4, 12, "' 5' is not a whole number"),
    ("nyt-cases-exponent.csv", 4, 12, "'1e3' is not a whole number"),
    ("nyt-cases-thousands-separator.csv", 4, 12, "'1,234' is not a whole number"),
    ("nyt-cases-invalid-utf8.csv", 4, 12, "'1\\xe9' is not a whole number"),
    ("nyt-cases-2pow53-plus-1.csv", 4, 12, "larger than 2^53"),
    ("nyt-cases-int64-max.csv", 4, 12, "'9223372036854775807' is larger than 2^53"),
    ("nyt-cases-2pow63.csv", 4, 12, "'9223372036854775808' is larger than 2^53"),
    ("nyt-cases-2pow64.csv", 4, 12, "'18446744073709551616' is larger than 2^53"),
    ("nyt-cases-30-digits.csv", 4, 12, "larger than 2^53"),
    ("nyt-deaths-empty.csv", 5, 14, "empty"),
    ("nyt-missing-deaths-column.csv", 1, 1, "missing required column 'deaths'"),
    ("nyt-header-capitalised.csv", 1, 1, "missing required column 'date'"),
    ("nyt-header-invalid-utf8.csv", 1, 1, "missing required column 'deaths' (header is 'date,cases,d\\xe9aths')"),
    ("nyt-header-repeated-name.csv", 1, 19, "column 'cases' appears twice"),
    ("nyt-header-repeated-date.csv", 1, 6, "column 'date' appears twice"),
    ("nyt-tab-separated.csv", 1, 1, "missing required column 'date'"),
    ("nyt-empty.csv", 1, 1, "the file is empty"),
    ("nyt-header-only.csv", 2, 1, "no data rows"),
    ("nyt-html-page.csv", 1, 1, "HTML"),
    ("nyt-json-body.csv", 1, 1, "JSON"),
    ("nyt-gzip-body.csv", 1, 1, "gzip"),
    ("nyt-utf16.csv", 1, 4, "NUL byte"),
    ("nyt-truncated-last-line.csv", 6, 13, "truncated"),
    ("nyt-unterminated-quote.csv", 4, 12, "unterminated"),
    ("nyt-unterminated-quote-at-eof.csv", 6, 12, "unterminated quoted field"),
    ("nyt-stray-quote.csv", 4, 13, "quote"),
    ("nyt-duplicate-date.csv", 5, 1, "appears twice (first on line 3)"),
    ("nyt-too-few-fields.csv", 4, 13, "expected 3 fields"),
    ("nyt-too-few-fields-quoted.csv", 4, 15, "expected 3 fields"),
    ("nyt-too-many-fields.csv", 4, 16, "expected 3 fields"),
    ("nyt-too-many-fields-after-multiline-quote.csv", 5, 5, "expected 3 fields"),
    ("nyt-cr-line-ends.csv", 1, 18, "carriage return"),
    ("nyt-lone-cr-mid-file.csv", 3, 15, "carriage return without a line feed"),
    ("nyt-nul-byte.csv", 4, 12, "NUL"),
    # --- NYT states: date,state,fips,cases,deaths ------------------------------------------
    ("states-name-invalid-utf8.csv", 2, 12, "state: 'Calif\\xf3rnia' is not valid UTF-8 (byte 6)"),
    ("states-name-byte-order-mark.csv", 3, 12, "contains a byte order mark (U+FEFF, byte 1"),
    ("states-name-control-char.csv", 3, 12, "'Washington\\x09' contains a control character (byte 11)"),
    ("states-nul-byte.csv", 3, 16, "NUL byte"),
    ("states-cases-2pow63.csv", 4, 26, "'9223372036854775808' is larger than 2^53"),
    ("states-deaths-2pow65.csv", 5, 28, "'36893488147419103232' is larger than 2^53"),
    ("states-deaths-minus-zero.csv", 3, 28, "'-0' has a minus sign"),
    ("states-cases-plus-sign.csv", 4, 26, "'+5' is not a whole number"),
    ("states-cases-leading-space.csv", 4, 26, "' 5' is not a whole number"),
    ("states-cases-quoted-thousands.csv", 4, 26, "'1,234' is not a whole number"),
    ("states-cases-exponent.csv", 4, 26, "'1e3' is not a whole number"),
    ("states-date-not-zero-padded.csv", 4, 1, "'2020-3-2' is not a date in YYYY-MM-DD form"),
    ("states-date-compact.csv", 4, 1, "'20200302' is not a date in YYYY-MM-DD form"),
    ("states-date-slashes.csv", 4, 1, "'2020/03/02' is not a date in YYYY-MM-DD form"),
    ("states-date-feb-30.csv", 4, 1, "'2020-02-30' is not a calendar date"),
    ("states-date-future.csv", 5, 1, "'2099-03-02' is in the future"),
    ("states-header-capitalised.csv", 1, 1, "missing required column 'date'"),
    ("states-header-repeated.csv", 1, 30, "column 'fips' appears twice"),
    ("states-missing-fips-column.csv", 1, 1, "missing required column 'fips'"),
    ("states-files-joined-with-bom.csv", 4, 1, "byte order mark (U+FEFF) starts this line"),
    ("states-cr-line-ends.csv", 1, 29, "carriage return"),
    ("states-unterminated-quote-at-eof.csv", 5, 12, "unterminated quoted field"),
    ("states-truncated-last-line.csv", 5, 27, "truncated"),
    ("states-fips-letters.csv", 3, 23, "'5E' is not a 2-digit state FIPS code"),
    ("states-fips-under-two-names.csv", 4, 19, "fips: '06' is the FIPS code of California, not of 'Nevada' (32)"),
    ("states-california-under-fips-36.csv", 2, 23, "fips: '36' is the FIPS code of New York, not of 'California' (06)"),
    ("states-texas-under-fips-6.csv", 2, 18, "fips: '6' is the FIPS code of California, not of 'Texas' (48)"),
    ("states-fips-00.csv", 5, 20, "fips: '00' is the FIPS code of no state or territory"),
    ("states-fips-99.csv", 5, 20, "fips: '99' is the FIPS code of no state or territory"),
    ("states-name-right-to-left-override.csv", 3, 12,
     "state: 'Washington\\xe2\\x80\\xaenotgnihsaW' contains a bidirectional control (U+202E, byte 11"),
    ("states-name-zero-width-space.csv", 3, 12,
     "state: 'Wash\\xe2\\x80\\x8bington' contains an invisible character (U+200B, byte 5)"),
    ("states-name-c1-control.csv", 3, 12, "state: 'Washington\\xc2\\x85' contains a control character (U+0085, byte 11)"),
    ("states-duplicate-fips-and-date.csv", 4, 1, "fips 06 on 2020-03-01 appears twice (first on line 2)"),
    ("states-too-many-fields.csv", 4, 30, "expected 5 fields as in the header, found 6"),
    ("states-empty-name.csv", 3, 12, "state: empty value"),
    ("states-gzip-body.csv", 1, 1, "gzip"),
    # --- NYT counties: date,county,state,fips,cases,deaths ---------------------------------
    ("counties-county-invalid-utf8.csv", 4, 12, "county: 'Do\\xf1a Ana' is not valid UTF-8 (byte 3)"),
    ("counties-state-invalid-utf8.csv", 4, 20, "state: 'New M\\xe9xico' is not valid UTF-8 (byte 6)"),
    ("counties-county-overlong-utf8.csv", 4, 12, "is not valid UTF-8 (byte 7)"),
    ("counties-county-cut-utf8-sequence.csv", 4, 12, "'Bayam\\xc3' is not valid UTF-8 (byte 6)"),
    ("counties-county-control-char.csv", 2, 12, "'Los\\x09Angeles' contains a control character (byte 4)"),
    ("counties-county-byte-order-mark.csv", 2, 12, "contains a byte order mark (U+FEFF, byte 1"),
    ("counties-nul-byte.csv", 4, 42, "NUL byte"),
    ("counties-cases-2pow63.csv", 4, 41, "'9223372036854775808' is larger than 2^53"),
    ("counties-cases-30-digits.csv", 2, 41, "larger than 2^53"),
    ("counties-deaths-minus-zero.csv", 4, 43, "'-0' has a minus sign"),
    ("counties-cases-plus-sign.csv", 4, 41, "'+5' is not a whole number"),
    ("counties-deaths-leading-space.csv", 2, 43, "' 0' is not a whole number"),
    ("counties-cases-quoted-thousands.csv", 4, 41, "'1,234' is not a whole number"),
    ("counties-cases-exponent.csv", 4, 41, "'1e3' is not a whole number"),
    ("counties-date-not-zero-padded.csv", 4, 1, "'2020-3-2' is not a date in YYYY-MM-DD form"),
    ("counties-date-compact.csv", 4, 1, "'20200302' is not a date in YYYY-MM-DD form"),
    ("counties-date-slashes.csv", 4, 1, "'2020/03/02' is not a date in YYYY-MM-DD form"),
    ("counties-date-feb-30.csv", 4, 1, "'2020-02-30' is not a calendar date"),
    ("counties-date-future.csv", 5, 1, "'2099-03-02' is in the future"),
    ("counties-header-mixed-case.csv", 1, 1, "missing required column 'date'"),
    ("counties-header-repeated.csv", 1, 37, "column 'county' appears twice"),
    ("counties-header-only.csv", 2, 1, "no data rows"),
    ("counties-files-joined-with-bom.csv", 4, 1, "byte order mark (U+FEFF) starts this line"),
    ("counties-cr-line-ends.csv", 1, 36, "carriage return"),
    ("counties-unterminated-quote-at-eof.csv", 5, 12, "unterminated quoted field"),
    ("counties-fips-four-digits.csv", 2, 35, "'6037' is not a 5-digit county FIPS code"),
    ("counties-no-fips-and-no-state.csv", 4, 20, "'Atlantis' is not a state or territory"),
    ("counties-duplicate-location-and-date.csv", 4, 1, "location 06037 on 2020-03-01 appears twice (first on line 2)"),
    ("counties-fips-under-two-names.csv", 4, 12, "fips 06037 is 'Orange', 'California' here but 'Los Angeles'"),
    ("counties-too-few-fields.csv", 3, 37, "expected 6 fields as in the header, found 5"),
    ("counties-fips-of-another-state.csv", 5, 26, "fips: '01003' is a county of Alabama (01), not of 'Texas' (48)"),
    ("counties-fips-00000.csv", 5, 26, "fips: '00000' is no county: 00 is the FIPS code of no state or territory"),
    ("counties-fips-99999.csv", 5, 26, "fips: '99999' is no county: 99 is the FIPS code of no state or territory"),
    ("counties-fips-state-part-not-a-state.csv", 5, 28,
     "fips: '80048' is no county: 80 is the FIPS code of no state or territory"),
    ("counties-fips-county-part-000.csv", 5, 24, "fips: '48000' is no county (county code 000: Texas as a whole)"),
    ("counties-county-right-to-left-override.csv", 2, 12,
     "county: 'Los Angeles\\xe2\\x80\\xaeselegnA soL' contains a bidirectional control (U+202E, byte 12"),
    ("counties-county-zero-width-space.csv", 3, 12,
     "county: 'New York\\xe2\\x80\\x8b City' contains an invisible character (U+200B, byte 9)"),
    ("counties-state-c1-control.csv", 2, 24,
     "state: 'California\\xc2\\x9b' contains a control character (U+009B, byte 11)"),
    ("counties-json-body.csv", 1, 1, "JSON"),
    # --- JHU: Date,Country/Region,Province/State,Confirmed,Recovered,Deaths ---------------
    ("jhu-us-bad-date.csv", 7, 1, "not a calendar date"),
    ("jhu-us-date-slashes.csv", 6, 1, "'01/23/2020' is not a date in YYYY-MM-DD form"),
    ("jhu-us-date-compact.csv", 6, 1, "'20200123' is not a date in YYYY-MM-DD form"),
    ("jhu-us-date-not-zero-padded.csv", 6, 1, "'2020-1-23' is not a date in YYYY-MM-DD form"),
    ("jhu-us-date-feb-30.csv", 6, 1, "'2020-02-30' is not a calendar date"),
    ("jhu-us-date-future.csv", 7, 1, "'2099-01-24' is in the future"),
    ("jhu-negative-recovered.csv", 7, 18, "negative"),
    ("jhu-recovered-minus-zero.csv", 6, 18, "'-0' has a minus sign"),
    ("jhu-recovered-not-number.csv", 7, 18, "'abc' is not a whole number"),
    ("jhu-recovered-plus-sign.csv", 6, 18, "'+5' is not a whole number"),
    ("jhu-recovered-leading-space.csv", 6, 18, "' 5' is not a whole number"),
    ("jhu-recovered-quoted-thousands.csv", 6, 18, "'1,234' is not a whole number"),
    ("jhu-recovered-exponent.csv", 6, 18, "'1e3' is not a whole number"),
    ("jhu-recovered-invalid-utf8.csv", 6, 18, "'5\\xa0' is not a whole number"),
    ("jhu-recovered-2pow63.csv", 6, 18, "'9223372036854775808' is larger than 2^53"),
    ("jhu-recovered-2pow64-and-more.csv", 6, 18, "'99999999999999999999999' is larger than 2^53"),
    ("jhu-missing-recovered-column.csv", 1, 1, "'Recovered'"),
    ("jhu-header-lower-case.csv", 1, 1, "missing required column 'Date'"),
    ("jhu-header-repeated.csv", 1, 63, "column 'Recovered' appears twice"),
    ("jhu-duplicate-us-date.csv", 8, 1, "appears twice (first on line 4)"),
    ("jhu-multiline-note-then-bad-recovered.csv", 4, 10, "'abc' is not a whole number"),
    ("jhu-nul-in-skipped-row.csv", 3, 19, "NUL"),
    ("jhu-files-joined-with-bom.csv", 8, 1, "byte order mark (U+FEFF) starts this line"),
    ("jhu-cr-line-ends.csv", 1, 62, "carriage return"),
    ("jhu-unterminated-quote-at-eof.csv", 7, 12, "unterminated quoted field"),
    ("jhu-too-few-fields.csv", 6, 19, "expected 6 fields as in the header, found 5"),
    ("jhu-empty.csv", 1, 1, "the file is empty"),
    ("jhu-header-only.csv", 2, 1, "no data rows"),
    ("jhu-no-us-rows.csv", 1, 6, "expected the US national rows (Country/Region \"US\" with an empty Province/State), found none in 3 rows"),
    ("jhu-us-lower-case.csv", 1, 6, "expected the US national rows"),
    ("jhu-us-trailing-space.csv", 1, 6, "expected the US national rows"),
    ("jhu-html-page.csv", 1, 1, "HTML"),
    ("jhu-gzip-body.csv", 1, 1, "gzip"),
]

SOURCES = ("nyt", "jhu", "states", "counties")

# Exported before and after every rejected run: the nation, a state and two counties (one with
# FIPS, one without), all loaded from good data first.
LOCATIONS = ("US", "06", "06037", "36:New York City")


def source_of(name):
    return name.split("-", 1)[0]


def good_states():
    """A small, valid state file (California, New York, Washington; 20 days)."""
    out = ["date,state,fips,cases,deaths"]
    for day in range(1, 21):
        for k, (name, fips) in enumerate((("California", "06"), ("New York", "36"), ("Washington", "53"))):
            out.append(f"2020-03-{day:02d},{name},{fips},{1000 * (k + 1) + 37 * day},{10 * (k + 1) + day}")
    return "\n".join(out) + "\n"


def good_counties():
    """A small, valid county file in date order, with and without FIPS, with unknown deaths."""
    places = (("Los Angeles", "California", "06037"), ("New York City", "New York", ""),
              ("Snohomish", "Washington", "53061"), ("Unknown", "Washington", ""))
    out = ["date,county,state,fips,cases,deaths"]
    for day in range(1, 21):
        for k, (county, state, fips) in enumerate(places):
            deaths = "" if (day + k) % 7 == 0 else str(5 * (k + 1) + day)
            out.append(f"2020-03-{day:02d},{county},{state},{fips},{500 * (k + 1) + 11 * day},{deaths}")
    return "\n".join(out) + "\n"


def run_etl(db, nyt=REAL["nyt"], jhu=REAL["jhu"], as_json=True, states=None, counties=None, config=None):
    args = [BIN, "run", "--nyt", nyt, "--jhu", jhu, "--db", db] + (["--json"] if as_json else [])
    if states:
        args += ["--states", states]
    if counties:
        args += ["--counties", counties]
    if config:
        args += ["--config", config]
    return subprocess.run(args, capture_output=True, timeout=120)


def export(db, *extra):
    return subprocess.run([BIN, "export", "--db", db, *extra], capture_output=True, check=True,
                          timeout=60).stdout


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="covid-etl-test-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.db = os.path.join(self.tmp, "covid.db")

    def run_json(self, **sources):
        p = run_etl(self.db, **sources)
        return p, json.loads(p.stdout)

    def sql(self, query, params=()):
        """The rows of query, read from the SQLite file (test_postgres.OnPostgres: from PostgreSQL)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            return db.execute(query, params).fetchall()

    def sql_tables(self, tables):
        """Every row of each of tables, as sql() gives them: {table: [row]}."""
        return {table: self.sql(f"SELECT * FROM {table}") for table in tables}


# Every table that holds loaded data (src/load/migrations.cc): a refused run changes none of them.
DATA_TABLES = ("locations", "observations", "revisions", "populations", "annotations", "date_digests",
               "dataset_cadence", "source_state")


class CorpusTest(TempDirTest):
    """Good data of every level loaded first; then each bad input must change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.good_dir = tempfile.mkdtemp(prefix="covid-etl-good-")
        cls.addClassCleanup(shutil.rmtree, cls.good_dir, True)
        cls.good = dict(REAL)
        for name, text in (("states", good_states()), ("counties", good_counties())):
            cls.good[name] = os.path.join(cls.good_dir, f"us-{name}.csv")
            with open(cls.good[name], "w", encoding="utf-8", newline="") as f:
                f.write(text)

    def setUp(self):
        super().setUp()
        p = run_etl(self.db, **self.good)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.before = self.exports()
        self.assertGreater(self.before["US"].count(b"\n"), 800)
        for location in LOCATIONS[1:]:
            self.assertEqual(self.before[location].count(b"\n"), 21, location)
        self.stored_before = self.stored()
        self.assertGreater(len(self.stored_before["observations"]), 800)
        # Once per test, after all its inputs, through the binary too (one export per input would
        # be four processes more for each of the corpus's 150 files).
        self.addCleanup(lambda: self.assertEqual(self.exports(), self.before, "a failed run changed an export"))

    def exports(self):
        return {location: export(self.db, "--location", location) for location in LOCATIONS}

    def stored(self):
        """Every row of every data table, in an order of their own."""
        return {table: sorted(rows, key=repr) for table, rows in self.sql_tables(DATA_TABLES).items()}

    def assert_rejected(self, path, source, line, column, message, file=None):
        """One bad source among good ones: exit 2, file:line:column, nothing changed, notified."""
        file = file or path
        sources = dict(self.good, **{source: path})
        p, summary = self.run_json(**sources)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(summary["status"], "failed")
        self.assertEqual(summary["stage"], "validate")
        self.assertGreaterEqual(summary["error_count"], 1)
        first = summary["errors"][0]
        self.assertEqual((first["file"], first["line"], first["column"]), (file, line, column), first)
        self.assertIn(message, first["message"])

        text = run_etl(self.db, as_json=False, **sources)
        self.assertEqual(text.returncode, 2)
        self.assertIn(f"{file}:{line}:{column}: {first['message']}", text.stderr.decode("utf-8"))

        stored = self.stored()
        for table in DATA_TABLES:
            self.assertEqual(stored[table], self.stored_before[table], f"a failed run changed the table {table}")
        events = self.sql("SELECT run_id, event FROM outbox")
        self.assertIn((summary["run_id"], "failure"), events, "no failure notification in the outbox")
        return summary


class MalformedInputs(CorpusTest):
    def test_each_malformed_file_is_rejected(self):
        names = {c[0] for c in CASES}
        self.assertEqual(len(names), len(CASES))
        for name, line, column, message in CASES:
            with self.subTest(file=name):
                self.assert_rejected(os.path.join(MALFORMED, name), source_of(name), line, column, message)

    def test_every_fixture_is_in_the_table_and_every_format_has_a_spread(self):
        on_disk = {n for n in os.listdir(MALFORMED) if n.endswith(".csv")}
        self.assertEqual(on_disk, {c[0] for c in CASES})
        per_source = {s: sum(1 for c in CASES if source_of(c[0]) == s) for s in SOURCES}
        self.assertEqual(set(source_of(c[0]) for c in CASES), set(SOURCES))
        for source, count in per_source.items():
            self.assertGreaterEqual(count, 25, source)

    def test_a_10_mb_line_is_refused_in_every_format(self):
        # Generated here rather than committed: one record of 10 MB (digits: a count that never
        # ends) in each format, refused at the record-length limit (1 MiB), at its line.
        ten_mb = b"7" * (10 * 1024 * 1024)
        bodies = {
            "nyt": b"date,cases,deaths\n2020-01-21,1,0\n2020-01-22," + ten_mb + b",0\n",
            "jhu": b"Date,Country/Region,Province/State,Confirmed,Recovered,Deaths\n"
                   b"2020-01-22,US,,1,0,0\n2020-01-23,US,,1," + ten_mb + b",0\n",
            "states": b"date,state,fips,cases,deaths\n2020-03-01,California,06,1,0\n"
                      b"2020-03-01,Washington,53," + ten_mb + b",0\n",
            "counties": b"date,county,state,fips,cases,deaths\n2020-03-01,Los Angeles,California,06037,1,0\n"
                        b"2020-03-01,New York City,New York,,2,\n2020-03-02,Los Angeles,California,06037,"
                        + ten_mb + b",0\n",
        }
        lines = {"nyt": 3, "jhu": 3, "states": 3, "counties": 4}
        for source, body in bodies.items():
            with self.subTest(source=source):
                path = os.path.join(self.tmp, f"{source}-10mb-line.csv")
                with open(path, "wb") as f:
                    f.write(body)
                self.assertGreater(os.path.getsize(path), 10 * 1024 * 1024)
                self.assert_rejected(path, source, lines[source], 1, "record longer than 1048576 bytes")
                os.remove(path)

    def test_error_list_is_capped_but_counted(self):
        path = os.path.join(self.tmp, "us.csv")
        with open(path, "w") as f:
            f.write("date,cases,deaths\n")
            for day in range(60):
                f.write(f"2020-{1 + day // 28:02d}-{1 + day % 28:02d},x{day},0\n")
        summary = self.assert_rejected(path, "nyt", 2, 12, "not a whole number")
        self.assertEqual(summary["error_count"], 60)
        self.assertLessEqual(len(summary["errors"]), 50)


class MalformedOverHttp(CorpusTest):
    """What only a server sends, for each of the four sources, over real HTTP on 127.0.0.1: a 200
    with an empty body, an HTML error page, a JSON body, and gzip bytes without Content-Encoding.
    The file named in the error is the URL."""

    def setUp(self):
        super().setUp()
        from httpfixture import HttpFixture
        self.server = HttpFixture().start()
        self.addCleanup(self.server.stop)

    def test_bodies_that_are_not_csv_are_refused(self):
        from httpfixture import Reply
        with open(os.path.join(MALFORMED, "nyt-html-page.csv"), "rb") as f:
            html = f.read()
        with open(os.path.join(MALFORMED, "nyt-json-body.csv"), "rb") as f:
            json_body = f.read()
        for source in SOURCES:
            with open(self.good[source], "rb") as f:
                gzipped = gzip.compress(f.read()[:100000], mtime=0)
            for kind, body, line, message in (("empty", b"", 1, "the file is empty"),
                                              ("html", html, 1, "HTML"),
                                              ("json", json_body, 1, "JSON"),
                                              ("gzip", gzipped, 1, "gzip-compressed data")):
                with self.subTest(source=source, body=kind):
                    path = f"/{source}-{kind}.csv"
                    headers = {"Content-Type": "text/csv"} if kind != "html" else {"Content-Type": "text/html"}
                    self.server.plan(path, Reply(200, body, headers))
                    url = self.server.url(path)
                    summary = self.assert_rejected(url, source, line, 1, message)
                    src = next(s for s in summary["sources"] if s["name"] == source)
                    self.assertEqual((src["http_status"], src["bytes"]), (200, len(body)))
                    requests = self.server.requests_for(path)
                    self.assertEqual(len(requests), 2)  # one per run: no retry of a 200


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
