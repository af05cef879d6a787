"""secrets.scan: no fake secret (fake_secrets.py) in anything the tests kept.

    secret_scan.py ARTIFACTS_ROOT

ARTIFACTS_ROOT holds one folder per integration test (artifacts.py): the recorded stdout and
stderr of every covid-etl process, the SQLite databases, what the binary sent to the test
servers, and dumps of the PostgreSQL and DynamoDB stores. Every file is read as bytes; an SQLite
database is also read table by table (a value split across overflow pages, or a page of another
file format, would escape a plain byte search). Each secret is looked for as it is, URL-encoded
(both cases of %XX, '+' for a space), JSON-escaped, as hex, and base64-encoded (standard and URL
alphabets, at the three alignments it can have inside a longer encoded text).

Before scanning, the scanner proves it can fail: it plants secrets in a scratch folder (in a log,
base64 inside a longer text, URL-encoded, deep in an SQLite row) and must find every one, and
nothing in a clean file. Exit status: 0 clean; 1 a secret found (each finding names the file, the
secret and its form); 2 the self-check failed, or tests ran but nothing of their output was
recorded (the scan would prove nothing).
"""
import base64
import binascii
import os
import sqlite3
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass

from artifacts import PLANTED
from fake_secrets import ENV as SECRETS

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Finding:
    file: str
    secret: str  # its variable name
    form: str    # raw, url, base64, ...
    where: str   # "bytes" or "table NAME"

    def __str__(self):
        return f"{self.file}: {self.secret} ({self.form}) in its {self.where}"


def _base64_fragments(raw, alphabet):
    """The part of base64(prefix + raw + suffix) that depends on raw alone, for each of the three
    alignments raw can have in a longer encoded text."""
    encode = base64.b64encode if alphabet == "std" else base64.urlsafe_b64encode
    out = []
    for k in range(3):
        text = encode(b"\0" * k + raw).rstrip(b"=")
        first = -(-8 * k // 6)            # the first character made of raw's bits only
        last = (8 * (k + len(raw))) // 6  # one past the last
        fragment = text[first:last]
        if len(fragment) >= 8:
            out.append(fragment)
    return out


def forms(value):
    """{form name: [byte strings]} under which `value` would be recognised."""
    raw = value.encode("utf-8")
    found = {"raw": [raw]}

    def add(name, candidate):
        if candidate != raw and candidate not in found.setdefault(name, []):
            found[name].append(candidate)

    for quoted in (urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
                   urllib.parse.quote(value)):
        add("url", quoted.encode())
        lower = "%".join(p if i == 0 else p[:2].lower() + p[2:] for i, p in enumerate(quoted.split("%")))
        add("url", lower.encode())
    add("json", value.replace("/", "\\/").encode())
    add("hex", binascii.hexlify(raw))
    add("hex", binascii.hexlify(raw).upper())
    for alphabet in ("std", "url"):
        for fragment in _base64_fragments(raw, alphabet):
            add("base64", fragment)
    return {k: v for k, v in found.items() if v}


def patterns(secrets=None):
    """[(secret name, form, bytes)] for every secret and form."""
    out = []
    for name, value in (secrets or SECRETS).items():
        for form, candidates in forms(value).items():
            out += [(name, form, c) for c in candidates]
    return out


def scan_bytes(data, pats):
    return {(name, form) for name, form, p in pats if p in data}


def sqlite_tables(path):
    """{table: bytes of all its values} of an SQLite database, read-only."""
    out = {}
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        con.text_factory = bytes
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            name = table.decode("utf-8", "replace")
            chunks = []
            for row in con.execute(f'SELECT * FROM "{name}"'):
                for cell in row:
                    if cell is None:
                        continue
                    chunks.append(cell if isinstance(cell, bytes) else str(cell).encode())
            out[name] = b"\n".join(chunks)
    finally:
        con.close()
    return out


def scan_file(path, pats):
    findings = []
    with open(path, "rb") as f:
        data = f.read()
    for name, form in sorted(scan_bytes(data, pats)):
        findings.append(Finding(path, name, form, "bytes"))
    if data.startswith(SQLITE_MAGIC):
        try:
            tables = sqlite_tables(path)
        except sqlite3.Error as e:
            tables = {}
            print(f"note: {path}: not readable as SQLite ({e}); its bytes were scanned", file=sys.stderr)
        for table, text in tables.items():
            for name, form in sorted(scan_bytes(text, pats)):
                findings.append(Finding(path, name, form, f"table {table}"))
    return findings


def scan_tree(root, secrets=None):
    """(findings, number of files, number of SQLite databases) for every file under root."""
    pats = patterns(secrets)
    findings, files, databases = [], 0, 0
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            path = os.path.join(dirpath, n)
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            files += 1
            with open(path, "rb") as f:
                databases += f.read(16) == SQLITE_MAGIC
            findings += scan_file(path, pats)
    return findings, files, databases


def plant(folder):
    """Writes files with planted secrets (and one clean file) into folder; returns
    {file name: secret name expected there} (None for the clean one)."""
    s = SECRETS
    planted = {}
    with open(os.path.join(folder, PLANTED), "w") as f:  # never kept as an artifact (artifacts.py)
        f.write("secrets planted by secret_scan.py's self-check\n")

    def write(name, data, secret):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        planted[name] = secret

    write("run.stderr", b"covid-etl: connecting with " + s["SMTP_PASSWORD"].encode() + b" ...\n", "SMTP_PASSWORD")
    write("payload.json", b'{"auth":"' + base64.b64encode(b"ab" + s["AWS_SECRET_ACCESS_KEY"].encode() + b"!") + b'"}',
          "AWS_SECRET_ACCESS_KEY")
    write("request.txt", b"GET /?password=" + urllib.parse.quote(s["COVID_ETL_TEST_PG_PASSWORD"], safe="").encode(),
          "COVID_ETL_TEST_PG_PASSWORD")
    db = os.path.join(folder, "planted.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO outbox (body) VALUES (?)",
                ("x" * 6000 + s["COVID_ETL_TRIGGER_TOKEN"] + "y" * 6000,))  # across overflow pages
    con.commit()
    con.close()
    planted["planted.db"] = "COVID_ETL_TRIGGER_TOKEN"
    write("clean.log", b"f4k3 SMTP-PASS AKIAFAKE aws-secret-f4k3 nothing here\n", None)
    return planted


def self_check():
    """Problems found when scanning planted secrets (an empty list: the scanner works)."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="covid-etl-scan-check-") as folder:
        planted = plant(folder)
        findings, _, databases = scan_tree(folder)
        planted[PLANTED] = None  # the marker is a clean file too
        found = {(os.path.basename(f.file), f.secret) for f in findings}
        for name, secret in planted.items():
            if secret is not None and (name, secret) not in found:
                problems.append(f"the planted {secret} in {name} was not found")
            if secret is None and any(f[0] == name for f in found):
                problems.append(f"a secret was reported in the clean file {name}")
        if databases != 1:
            problems.append(f"{databases} SQLite databases recognised instead of 1")
        if not any(f.where.startswith("table ") for f in findings):
            problems.append("the planted row was not found by reading the database's tables")
    return problems


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    root = argv[1]
    problems = self_check()
    if problems:
        print("secret scan: the self-check failed: " + "; ".join(problems), file=sys.stderr)
        return 2
    print("secret scan: self-check passed (planted secrets found, clean file clean)")
    if not os.path.isdir(root) or not os.listdir(root):
        print(f"secret scan: nothing to scan in {root} (no integration test ran)")
        return 0
    findings, files, databases = scan_tree(root)
    tests = sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
    outputs = sum(len(os.listdir(os.path.join(root, t, "output"))) for t in tests
                  if os.path.isdir(os.path.join(root, t, "output")))
    integration = [t for t in tests if t.startswith("integration.")]  # those run the binary
    print(f"secret scan: {len(SECRETS)} secrets in {sum(len(v) for v in map(forms, SECRETS.values()))} forms; "
          f"{len(tests)} tests, {files} files ({outputs} recorded outputs, {databases} SQLite databases)")
    if findings:
        for f in findings:
            print("LEAK: " + str(f))
        print(f"secret scan: {len(findings)} leaks", file=sys.stderr)
        return 1
    if integration and outputs == 0:
        print("secret scan: tests ran but none of the binary's output was recorded (is COVID_ETL_BIN the "
              "recording wrapper?)", file=sys.stderr)
        return 2
    print("secret scan: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
