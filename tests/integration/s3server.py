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
import os
import shutil
import sys
import tempfile
import threading
import time

from testserver import command, ensure_installed, node, start_detached, start_node, stop_pid, stop_process

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
        try:
            self.proc, self.port = start_node(START, _env(self.key, self.secret, self.buckets, self.directory),
                                              "s3rver", timeout)
        except RuntimeError:
            self.stop()
            raise
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
        stop_process(self.proc, self._reader)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


# --- the command line (CTest fixtures, bench/publish.sh) ----------------------------------------

def _start(state, args):
    buckets = args or ["site"]
    objects = os.path.join(state, "objects")
    shutil.rmtree(objects, ignore_errors=True)
    os.makedirs(objects)
    ensure_installed(PACKAGE, "s3rver")
    env = _env(os.environ.get("AWS_ACCESS_KEY_ID", "S3RVER"),
               os.environ.get("AWS_SECRET_ACCESS_KEY", "S3RVER"), buckets, objects)
    pid, port = start_detached([node(), START], env, state, "s3rver")
    return ({"pid": pid, "port": port}, f"http://127.0.0.1:{port}/",
            f"s3rver on 127.0.0.1:{port}, process {pid}, buckets {', '.join(buckets)}")


def _stop(info):
    stop_pid(info["pid"], START)


if __name__ == "__main__":
    sys.exit(command(sys.argv, __doc__, _start, _stop, args_ok=lambda args: True))
