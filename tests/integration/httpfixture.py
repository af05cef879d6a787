"""A scriptable HTTP server on 127.0.0.1 for integration tests (stdlib only).

    server = HttpFixture().start()              # ephemeral port, background thread
    server.plan("/nyt.csv", Reply(500), Reply(200, body, {"ETag": '"v1"'}))
    url = server.url("/nyt.csv")
    ...
    server.requests_for("/nyt.csv")              # [Request(path, headers), ...] in arrival order
    server.stop()

Each path answers with its planned replies in order; the last one repeats for ever, so
`plan(path, Reply(503))` is "503 forever". A planned reply may also be a function of the
Request that returns a Reply (to check a signature, say). A path with no plan answers 404.
Every request (GET or POST) is recorded (method, path, headers with lower-cased names, body)
before it is answered. Request bodies (what the binary sent: webhooks, SNS, DynamoDB calls) are
also kept in the test's artifacts for the secrets scan (artifacts.py); headers are not, since
they carry the credentials on purpose.

A Reply can also misbehave:
    gzip=True          compress the body and send Content-Encoding: gzip
    truncate_at=N      announce the full Content-Length, send N body bytes, close the connection
    content_length=False  no Content-Length: the body ends when the connection closes
    stall_s=S          send the headers and half the body, then stall S seconds (client timeouts)
    delay_s=S          wait S seconds before answering (a slow but working server)
"""

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import artifacts


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    gzip: bool = False
    truncate_at: int = None
    content_length: bool = True
    stall_s: float = 0.0
    delay_s: float = 0.0  # wait this long before answering at all (a slow server)


@dataclass
class Request:
    path: str
    headers: dict  # lower-cased names
    method: str = "GET"
    body: bytes = b""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections as in production

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def _answer(self, body):
        fixture = self.server.fixture
        request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, self.command, body)
        if body:
            artifacts.capture("http", body, self.command + self.path.split("?")[0])
        reply = fixture._record_and_next(request)
        if callable(reply):
            reply = reply(request)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: that is its right
            self.close_connection = True

    def _send(self, reply):
        if reply.delay_s:
            time.sleep(reply.delay_s)
        body = gzip.compress(reply.body) if reply.gzip else reply.body
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.gzip:
            self.send_header("Content-Encoding", "gzip")
        no_body = reply.status == 304 or reply.status == 204 or reply.status < 200
        if no_body:
            self.end_headers()
            return
        if reply.content_length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if reply.stall_s:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(reply.stall_s)
            self.close_connection = True
            return
        if reply.truncate_at is not None:
            self.wfile.write(body[: reply.truncate_at])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a dropped client is not a test failure
        pass


class HttpFixture:
    def __init__(self):
        self._lock = threading.Lock()
        self._plans = {}
        self.requests = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fixture = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def plan(self, path, *replies):
        """Replaces the replies planned for `path`."""
        with self._lock:
            self._plans[path] = list(replies)

    def requests_for(self, path):
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def clear_requests(self):
        with self._lock:
            self.requests.clear()

    def _record_and_next(self, request):
        with self._lock:
            self.requests.append(request)
            plan = self._plans.get(request.path)
            if not plan:
                return Reply(404, b"not found\n")
            return plan.pop(0) if len(plan) > 1 else plan[0]
