"""dynalite (a DynamoDB-compatible server on Node, in memory) for the DynamoDB store's tests, and
a proxy in front of it that checks, counts and disturbs what covid-etl sends.

    server = Dynalite().start()          # npm ci in tests/dynalite when needed; 127.0.0.1, free port
    proxy = DynamoProxy(server.port, KEY, SECRET, "us-east-1")
    url = proxy.url()                     # what covid-etl's --db endpoint= names
    ...
    proxy.requests                        # [Call(op, body, sig, headers)], in arrival order
    proxy.fault = lambda call, n: ...     # None (forward), or a Reply, or "unprocessed"
    proxy.stop(); server.stop()

The proxy recomputes every request's SigV4 signature with botocore (awssig.verify_sigv4) and
answers 403 InvalidSignatureException, as DynamoDB does, when it does not match; otherwise it
forwards the request to dynalite (which checks no signature) unless `fault` says otherwise.
"unprocessed" forwards the first half of a BatchWriteItem and hands the rest back as
UnprocessedItems, which dynalite itself never does.

Also a command line, for CTest fixtures (tests/CMakeLists.txt; the store contract's DynamoDB cases):
    dynalite.py start STATE_DIR   starts dynalite in the background; writes STATE_DIR/url (its
                                  endpoint, http://127.0.0.1:PORT/) and STATE_DIR/server.json
    dynalite.py stop STATE_DIR    stops that process (by the id it recorded) and removes the files
"""
import fcntl
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpfixture
from awssig import verify_sigv4
from httpfixture import HttpFixture, Reply

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "dynalite")  # tests/dynalite: package.json, start.js
JSON_TYPE = "application/x-amz-json-1.0"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def ensure_installed(package=PACKAGE, what="dynalite"):
    """npm ci in `package` (tests/dynalite; s3server.py's tests/s3rver) when node_modules is
    missing or older than the lock file; one process at a time (CTest runs test classes in
    parallel)."""
    lock_file = os.path.join(package, "package-lock.json")
    stamp = os.path.join(package, "node_modules", ".package-lock.json")
    with open(lock_file) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock_file):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed for {what} (scripts/setup.sh installs it)")
        # Without the optional leveldown (a native module): dynalite keeps its tables in memory.
        p = subprocess.run([npm, "ci", "--omit=optional", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=package, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"npm ci in {package} failed ({p.returncode}): {p.stderr[-2000:]}")


class Dynalite:
    def __init__(self):
        self.proc = None
        self.port = None

    def start(self, timeout=30):
        ensure_installed()
        env = {**os.environ, "NODE_PATH": os.path.join(PACKAGE, "node_modules")}
        self.proc = subprocess.Popen([shutil.which("node") or "node", os.path.join(PACKAGE, "start.js")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"dynalite did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.port = int(line)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
            self.proc.stderr.close()

    def url(self):
        return f"http://127.0.0.1:{self.port}/"


@dataclass
class Call:
    op: str          # DescribeTable, BatchWriteItem, ...
    body: dict       # the request's JSON
    sig: str         # "ok" or why the signature did not check out
    headers: dict = field(repr=False)  # lower-cased names; holds the session token: never printed
    answer: str = "" # forwarded, unprocessed, or the error type answered instead
    forwarded: list = None  # of a BatchWriteItem: the (table, write) pairs dynalite received

    def tables(self):
        """The tables the request names."""
        if "RequestItems" in self.body:
            return sorted(self.body["RequestItems"])
        return [self.body["TableName"]] if "TableName" in self.body else []


def error_reply(status, type_, message):
    body = json.dumps({"__type": ERROR_PREFIX + type_, "message": message}).encode()
    return Reply(status, body, {"Content-Type": JSON_TYPE})


class _NoDelayHandler(httpfixture._Handler):
    # The fixture writes an answer's headers and body separately: without TCP_NODELAY each answer
    # waits for the client's delayed ACK (40 ms), and a run makes some fifty requests.
    disable_nagle_algorithm = True


class DynamoProxy:
    def __init__(self, upstream_port, key, secret, region):
        self.upstream_port = upstream_port
        self.key, self.secret, self.region = key, secret, region
        self.fault = None
        self.requests = []
        self._lock = threading.Lock()
        self._server = HttpFixture()
        self._server._server.RequestHandlerClass = _NoDelayHandler
        self._server.start()
        self._server.plan("/", self._handle)

    def url(self):
        return self._server.url("/")

    def stop(self):
        self._server.stop()

    def reset(self):
        with self._lock:
            self.requests = []
            self.fault = None

    def calls(self, op=None):
        with self._lock:
            return [c for c in self.requests if op is None or c.op == op]

    def _handle(self, request):
        op = request.headers.get("x-amz-target", "").rpartition(".")[2]
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        ok, reason = verify_sigv4(request, self.key, self.secret, self.region, self.url(), "dynamodb")
        call = Call(op, body, reason, request.headers)
        with self._lock:
            n = sum(1 for c in self.requests if c.op == op)  # earlier calls of this operation
            self.requests.append(call)
            fault = self.fault
        if not ok:
            call.answer = "InvalidSignatureException"
            return error_reply(403, "InvalidSignatureException", "The request signature we calculated does not "
                               f"match the signature you provided ({reason}).")
        action = fault(call, n) if fault is not None else None
        if isinstance(action, Reply):
            try:
                call.answer = json.loads(action.body).get("__type", "").rpartition("#")[2]
            except ValueError:
                call.answer = ""
            call.answer = call.answer or str(action.status)
            return action
        if action == "unprocessed" and op == "BatchWriteItem":
            return self._partial(call, request)
        call.answer = "forwarded"
        if op == "BatchWriteItem":
            call.forwarded = [(t, w) for t, ws in body.get("RequestItems", {}).items() for w in ws]
        return self._forward(request.body, request.headers)

    def _forward(self, body, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            names = ("content-type", "x-amz-target", "x-amz-date", "authorization", "x-amz-security-token")
            conn.request("POST", "/", body=body, headers={h: headers[h] for h in names if h in headers})
            r = conn.getresponse()
            return Reply(r.status, r.read(), {"Content-Type": r.getheader("Content-Type", JSON_TYPE)})
        finally:
            conn.close()

    def _partial(self, call, request):
        """Forwards the first half of the batch; the rest comes back as UnprocessedItems."""
        writes = [(table, w) for table, ws in call.body["RequestItems"].items() for w in ws]
        keep = len(writes) // 2
        call.forwarded = writes[:keep]
        call.answer = f"unprocessed {len(writes) - keep} of {len(writes)}"
        unprocessed = {}
        for table, w in writes[keep:]:
            unprocessed.setdefault(table, []).append(w)
        answer = {"UnprocessedItems": {}}
        if keep:
            forwarded = {}
            for table, w in writes[:keep]:
                forwarded.setdefault(table, []).append(w)
            # dynalite ignores the signature, so the shortened body can be forwarded as it is.
            reply = self._forward(json.dumps({"RequestItems": forwarded}).encode(), request.headers)
            if reply.status != 200:
                return reply
            answer = json.loads(reply.body)
        answer["UnprocessedItems"] = unprocessed
        return Reply(200, json.dumps(answer).encode(), {"Content-Type": JSON_TYPE})


# --- the command line (CTest fixtures) ---------------------------------------------------------

def _alive(pid):
    """Whether `pid` is still our dynalite (not a process that took its number since)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            ours = os.path.join(PACKAGE, "start.js").encode() in f.read()
        with open(f"/proc/{pid}/stat") as f:
            return ours and f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 64
    state = os.path.abspath(argv[2])
    info = os.path.join(state, "server.json")
    if argv[1] == "start":
        if os.path.exists(info):  # a previous run's server that was never stopped
            main([argv[0], "stop", state])
        os.makedirs(state, exist_ok=True)
        ensure_installed()
        env = {**os.environ, "NODE_PATH": os.path.join(PACKAGE, "node_modules")}
        out_path = os.path.join(state, "dynalite.out")
        with open(out_path, "w") as out, open(os.path.join(state, "dynalite.err"), "w") as err:
            proc = subprocess.Popen([shutil.which("node") or "node", os.path.join(PACKAGE, "start.js")],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
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
            print(f"dynalite did not start: {open(os.path.join(state, 'dynalite.err')).read()[-2000:]}",
                  file=sys.stderr)
            return 1
        with open(info, "w") as f:
            json.dump({"pid": proc.pid, "port": int(port)}, f)
        with open(os.path.join(state, "url"), "w") as f:
            f.write(f"http://127.0.0.1:{port}/\n")
        print(f"dynalite on 127.0.0.1:{port}, process {proc.pid}")
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
