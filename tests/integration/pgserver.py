"""A throwaway PostgreSQL server for the tests: Debian's postgresql package, our own cluster.

PgServer.start() runs initdb in a new temporary directory and starts postgres on a free port
of 127.0.0.1 (and a Unix socket in that directory), with password (SCRAM) authentication over
TCP and trust over the socket. The tests connect over TCP as the role `covid` with the suite's
fake PostgreSQL password (fake_secrets.py; `url()`); admin() runs SQL as the superuser over the
socket. stop() stops it; start() again restarts the same cluster on the same port. cleanup()
keeps the data of every database for the secrets scan (pg_dumpall --data-only, when the test
keeps artifacts: artifacts.py), stops it and deletes everything. It never touches the system
cluster or service.

initdb and postgres refuse to run as root: as root, every server command runs as the
`postgres` user (created by the Debian package) through setpriv (or runuser), and the
directory is handed to that user. As another user, they run as that user.

Also a command line, for CTest fixtures (tests/CMakeLists.txt):
    pgserver.py start STATE_DIR [--durable]
                                  starts a server (--durable: with fsync and PostgreSQL's other
                                  defaults, for benchmarks); writes STATE_DIR/url (the covid
                                  role's URL of database `covid`) and STATE_DIR/server.json
    pgserver.py stop STATE_DIR    stops it and deletes its directory
"""
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import artifacts
import fake_secrets
from testserver import command

USER = "covid"


def bin_dir():
    """The newest /usr/lib/postgresql/N/bin that has initdb."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return os.path.dirname(found[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, root=None, port=None, password=None, durable=False):
        self.bin = bin_dir()
        self.durable = durable  # False: fsync and friends off (tests); True: the defaults (benchmarks)
        self.root = root
        self.port = port
        self.password = password or fake_secrets.PG_PASSWORD
        self.running = False

    # --- running things as the server's user -------------------------------------------------

    def _as_server_user(self, cmd):
        if os.geteuid() != 0:
            return cmd
        if shutil.which("setpriv"):
            return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + cmd
        return ["runuser", "-u", "postgres", "--"] + cmd

    def _server_cmd(self, *args, check=True, timeout=120):
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": self.root}
        p = subprocess.run(self._as_server_user(list(args)), cwd=self.root, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                               + self.log_tail())
        return p

    @property
    def data(self):
        return os.path.join(self.root, "data")

    @property
    def log(self):
        return os.path.join(self.root, "server.log")

    def log_tail(self, n=30):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --- life cycle ----------------------------------------------------------------------------

    def start(self):
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix="covid-etl-pg-")
            os.chmod(self.root, 0o755)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(self.root, pw.pw_uid, pw.pw_gid)
            pwfile = os.path.join(self.root, "pwfile")
            self._write_as_owner(pwfile, secrets.token_hex(16) + "\n")
            self._server_cmd(os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                             "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile", pwfile,
                             "--no-locale", "-E", "UTF8", "--no-sync")
        last = None
        for _ in range(5):
            port = self.port or free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={self.root} "
                    "-c max_connections=40 -c dynamic_shared_memory_type=mmap")
            if not self.durable:
                opts += (" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                         " -c shared_buffers=16MB -c max_parallel_workers_per_gather=0")
            p = self._server_cmd(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log,
                                 "-w", "-t", "60", "-o", opts, "start", check=False)
            if p.returncode == 0:
                self.port = port
                self.running = True
                break
            last = p.stdout + p.stderr + self.log_tail()
            if self.port:  # a restart must keep its port: wait for it to be free
                time.sleep(0.5)
        else:
            raise RuntimeError("could not start PostgreSQL:\n" + (last or ""))
        if not self.admin(f"SELECT 1 FROM pg_roles WHERE rolname = '{USER}'"):
            self.admin(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{self.password}'")
            self.admin(f"CREATE DATABASE {USER} OWNER {USER}")
        return self

    def _write_as_owner(self, path, text):
        with open(path, "w") as f:
            f.write(text)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def stop(self, mode="fast"):
        if self.running:
            self._server_cmd(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                             "stop", check=False)
            self.running = False

    def keep_data_for_scan(self):
        """The data of every database, as SQL, in the test's artifacts (secret_scan.py)."""
        if not self.running or not artifacts.enabled():
            return
        try:
            p = subprocess.run([os.path.join(self.bin, "pg_dumpall"), "--data-only", "-h", self.root,
                                "-p", str(self.port), "-U", "postgres"], capture_output=True, timeout=300,
                               env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
            artifacts.capture("postgres", p.stdout + p.stderr, f"pg_dumpall-{self.port}.sql")
        except (OSError, subprocess.SubprocessError):
            pass

    def cleanup(self):
        try:
            self.keep_data_for_scan()
            self.stop("immediate")
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)

    # --- using it ------------------------------------------------------------------------------

    def psql_cmd(self, db="postgres", user="postgres"):
        return [os.path.join(self.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.root,
                "-p", str(self.port), "-U", user, "-d", db]

    def admin(self, sql, db="postgres"):
        """Runs SQL as the superuser over the Unix socket; returns the rows as lists of strings
        (NULL as None)."""
        p = subprocess.run(self.psql_cmd(db) + ["-At", "-F", "\x1f", "-P", "null=\x1e", "-c", sql],
                           capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if not k.startswith("PG")})
        if p.returncode != 0:
            raise RuntimeError(f"psql failed ({p.returncode}) on {sql!r}: {p.stderr}")
        return [[None if c == "\x1e" else c for c in line.split("\x1f")]
                for line in p.stdout.split("\n") if line != ""]

    def create_database(self, name=None):
        name = name or "t_" + secrets.token_hex(6)
        self.admin(f"CREATE DATABASE {name} OWNER {USER}")
        return name

    def url(self, db=USER, password=None, user=USER, **params):
        password = self.password if password is None else password
        auth = urllib.parse.quote(user, safe="")
        if password != "":
            auth += ":" + urllib.parse.quote(password, safe="")
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{db}{query}"


def _start(state, args):
    server = PgServer(durable="--durable" in args).start()
    return ({"root": server.root, "port": server.port, "password": server.password}, server.url(),
            f"PostgreSQL on 127.0.0.1:{server.port}, cluster in {server.root}")


def _stop(info):
    server = PgServer(root=info["root"], port=info["port"], password=info["password"])
    server.running = True
    server.cleanup()


if __name__ == "__main__":
    sys.exit(command(sys.argv, __doc__, _start, _stop, args_ok=lambda args: args in ([], ["--durable"])))
