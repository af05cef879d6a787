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
import http.client
import json
import os
import sys
import threading
from dataclasses import dataclass, field

import httpfixture
from awssig import verify_sigv4
from httpfixture import HttpFixture, Reply
from testserver import command, ensure_installed, node, start_detached, start_node, stop_pid, stop_process

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "dynalite")  # tests/dynalite: package.json, start.js
START = os.path.join(PACKAGE, "start.js")
JSON_TYPE = "application/x-amz-json-1.0"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def _env():
    return {**os.environ, "NODE_PATH": os.path.join(PACKAGE, "node_modules")}


class Dynalite:
    def __init__(self):
        self.proc = None
        self.port = None

    def start(self, timeout=30):
        ensure_installed(PACKAGE, "dynalite")
        self.proc, self.port = start_node(START, _env(), "dynalite", timeout)
        return self

    def stop(self):
        stop_process(self.proc)

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

def _start(state, args):
    ensure_installed(PACKAGE, "dynalite")
    pid, port = start_detached([node(), START], _env(), state, "dynalite")
    return {"pid": pid, "port": port}, f"http://127.0.0.1:{port}/", f"dynalite on 127.0.0.1:{port}, process {pid}"


def _stop(info):
    stop_pid(info["pid"], START)


if __name__ == "__main__":
    sys.exit(command(sys.argv, __doc__, _start, _stop))
