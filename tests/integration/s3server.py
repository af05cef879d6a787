"""s3rver (an S3-compatible server on Node, objects in a folder) for the S3 publish destination's
tests and bench/publish.sh, with SigV4 signatures checked (tests/s3rver/start.js: only the key
pair given here is accepted, and every signed request's signature is recomputed with aws4).

    server = S3Server(key, secret, buckets=("site",)).start()   # npm ci in tests/s3rver when needed
    dest = f"s3://site/prefix?endpoint={server.url()}"            # what covid-etl's --to names
    ...
    server.requests("PUT")       # [(method, path, status)] s3rver has answered, in order
    server.object_path("site", "prefix/index.html")   # where s3rver keeps an object's bytes
    server.stop()

Also a command line, for CTest fixtures and the benchmark:
    s3server.py start STATE_DIR [BUCKET...]   starts s3rver in the background with the buckets
                                           (default: site) and the key pair of AWS_ACCESS_KEY_ID /
                                           AWS_SECRET_ACCESS_KEY (S3RVER / S3RVER when unset);
                                           writes STATE_DIR/url (http://127.0.0.1:PORT/),
                                           STATE_DIR/server.json; objects in STATE_DIR/objects,
                                           the request log in STATE_DIR/s3rver.err
    s3server.py stop STATE_DIR             stops that process and removes url and server.json
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from dynalite import ensure_installed

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "s3rver")  # tests/s3rver: package.json, start.js
START = os.path.join(PACKAGE, "start.js")


def _env(key, secret, buckets, directory, quiet=False):
    env = {**os.environ, "NODE_PATH": os.path.join(PACKAGE, "node_modules"),
           "S3RVER_KEY": key, "S3RVER_SECRET": secret, "S3RVER_BUCKETS": ",".join(buckets),
           "S3RVER_DIRECTORY": directory}
    if quiet:
        env["S3RVER_QUIET"] = "1"
    return env


class S3Server:
    def __init__(self, key, secret, buckets=("site",)):
        self.key, self.secret, self.buckets = key, secret, tuple(buckets)
        self.proc = None
        self.port = None
        self.directory = None
        self._log = []
        self._lock = threading.Lock()
        self._reader = None

    def start(self, timeout=30):
        ensure_installed(PACKAGE, "s3rver")
        self.directory = tempfile.mkdtemp(prefix="s3rver-")
        self.proc = subprocess.Popen([shutil.which("node") or "node", START], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=_env(self.key, self.secret, self.buckets, self.directory))
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"s3rver did not start: {line!r}")
        self.port = int(line)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        return self

    def _read_log(self):
        for line in self.proc.stderr:
            parts = line.split()
            with self._lock:
                if len(parts) == 3 and parts[2].isdigit():
                    self._log.append((parts[0], parts[1], int(parts[2])))
                else:
                    self._log.append(("LOG", line.rstrip(), 0))

    def requests(self, method=None):
        """The requests answered so far: (method, path, status), in order."""
        time.sleep(0.05)  # the log line of the last answer may still be on its way
        with self._lock:
            return [r for r in self._log if method is None or r[0] == method]

    def clear(self):
        with self._lock:
            self._log = []

    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def object_path(self, bucket, key):
        """The file s3rver keeps the object's bytes in (its filesystem store's layout)."""
        return os.path.join(self.directory, bucket, key + "._S3rver_object")

    def keys(self, bucket):
        """Every key in the bucket, sorted (read from s3rver's folder)."""
        root = os.path.join(self.directory, bucket)
        out = []
        for folder, _, files in os.walk(root):
            for name in files:
                if name.endswith("._S3rver_object"):
                    path = os.path.join(folder, name[:-len("._S3rver_object")])
                    out.append(os.path.relpath(path, root))
        return sorted(out)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.proc is not None:
            self.proc.stdout.close()
            self.proc.stderr.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


# --- the command line (CTest fixtures, bench/publish.sh) ----------------------------------------

def _alive(pid):
    """Whether `pid` is still our s3rver (not a process that took its number since)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            ours = START.encode() in f.read()
        with open(f"/proc/{pid}/stat") as f:
            return ours and f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv):
    if len(argv) < 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 64
    state = os.path.abspath(argv[2])
    info = os.path.join(state, "server.json")
    if argv[1] == "start":
        if os.path.exists(info):  # a previous run's server that was never stopped
            main([argv[0], "stop", state])
        buckets = argv[3:] or ["site"]
        objects = os.path.join(state, "objects")
        shutil.rmtree(objects, ignore_errors=True)
        os.makedirs(objects)
        ensure_installed(PACKAGE, "s3rver")
        env = _env(os.environ.get("AWS_ACCESS_KEY_ID", "S3RVER"),
                   os.environ.get("AWS_SECRET_ACCESS_KEY", "S3RVER"), buckets, objects)
        out_path, err_path = os.path.join(state, "s3rver.out"), os.path.join(state, "s3rver.err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen([shutil.which("node") or "node", START], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, env=env,
                                    start_new_session=True)  # outlives this command
        deadline = time.monotonic() + 30
        port = ""
        while time.monotonic() < deadline and proc.poll() is None:
            with open(out_path) as f:
                port = f.readline().strip()
            if port.isdigit():
                break
            time.sleep(0.05)
        if not port.isdigit():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            print(f"s3rver did not start: {open(err_path).read()[-2000:]}", file=sys.stderr)
            return 1
        with open(info, "w") as f:
            json.dump({"pid": proc.pid, "port": int(port)}, f)
        with open(os.path.join(state, "url"), "w") as f:
            f.write(f"http://127.0.0.1:{port}/\n")
        print(f"s3rver on 127.0.0.1:{port}, process {proc.pid}, buckets {', '.join(buckets)}")
        return 0
    try:
        with open(info) as f:
            pid = json.load(f)["pid"]
    except (OSError, ValueError, KeyError):
        return 0
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    for name in ("server.json", "url"):
        try:
            os.remove(os.path.join(state, name))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
