"""The server facing the internet (issue 9): the real binary on a free port of 127.0.0.1, spoken to
over raw sockets (http.client tidies requests up too much to send the broken ones).

- SlowClients: 1,000 slowloris clients (a header byte every 10 s), a few faster drips (a byte
  every 0.5 s, in the header or in a body) and a few that never say anything are all closed by
  the header deadline (10 s from the connection's accept) or the request deadline (10 s from a
  request's first byte), while other clients are answered promptly the whole time.
- ClientLimits: 10,050 idle connections from one address take 64 places (the per-client limit);
  clients from other addresses are still answered, each within 100 ms. A full table makes room
  for a new client by closing the least recently active idle kept-alive connection.
- MalformedRequests: the size limits (431, 414, 413), request smuggling shapes (Content-Length
  with Transfer-Encoding, a Transfer-Encoding that does not end in chunked, duplicate lengths),
  obsolete line folding, bare LF line ends, invalid characters, versions other than HTTP/1.0 and
  HTTP/1.1 (400), methods (405 with Allow on every data path), and pipelining.
- PathTraversal: every encoding of "..", backslashes, overlong UTF-8, NUL, absolute-form targets:
  404, and a file planted beside the database and in the working directory never comes back.
- TriggerEndpoint: the daemon's POST /api/v1/runs with a token: 401 for a wrong one (the token
  never echoed), 429 after 5 wrong ones in a minute from one address, even for the right token;
  another address is not locked out.

Every load here is bounded in count and time and targets 127.0.0.1 only.
"""
import http.client
import json
import os
import re
import resource
import selectors
import shutil
import socket
import tempfile
import threading
import time
import unittest

import test_daemon
from etl import JHU, NYT, TempDirTest, run_json
from test_serve import Server

HOST = "127.0.0.1"


def load(db):
    code, summary, stderr = run_json(db, NYT, JHU)
    if code != 0:
        raise AssertionError(f"run failed ({code}): {stderr}")
    return summary


class Response:
    def __init__(self, version, status, headers, body):
        self.version, self.status, self.headers, self.body = version, status, headers, body

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:200]!r}>"


def read_responses(sock, methods, timeout=10):
    """Reads one response per entry of methods (HEAD: no body) from sock, or fewer when the server
    closes the connection first. Returns ([Response], whether the server closed it, leftover)."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    closed = False
    deadline = time.monotonic() + timeout

    def fill():
        nonlocal buf, closed
        if time.monotonic() > deadline:
            raise AssertionError(f"no complete answer within {timeout} s; got {out} and {buf[:300]!r}")
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            closed = True
        buf += chunk

    for method in methods:
        while b"\r\n\r\n" not in buf and not closed:
            fill()
        if b"\r\n\r\n" not in buf:
            break
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        n = 0 if method == "HEAD" or status in ("304", "204") else int(headers.get("content-length", "0"))
        while len(buf) < n and not closed:
            fill()
        body, buf = buf[:n], buf[n:]
        out.append(Response(version, int(status), headers, body))
    return out, closed, buf


def client_address(i):
    """The i-th of many client addresses on loopback (all of 127/8 is ours on Linux), none of them
    127.0.0.1: the server limits connections per client address, so many clients need many."""
    return f"127.0.{1 + i // 250}.{2 + i % 250}"


def connect(port, source=None, timeout=10):
    """A connection to the server from source (an address of 127/8; None: the default, 127.0.0.1)."""
    return socket.create_connection((HOST, port), timeout=timeout,
                                    source_address=(source, 0) if source else None)


def exchange(port, data, methods=("GET",), timeout=10, source=None):
    """Sends data on a new connection and reads the answers: ([Response], closed by the server)."""
    with connect(port, source, timeout) as s:
        s.sendall(data)
        responses, closed, _ = read_responses(s, methods, timeout)
        if not closed and responses and responses[-1].headers.get("connection") == "close":
            # The server said it would close: it must, promptly.
            s.settimeout(timeout)
            try:
                closed = s.recv(1) == b""
            except ConnectionResetError:
                closed = True
        return responses, closed


def one(port, data, method="GET", source=None):
    responses, _ = exchange(port, data, (method,), source=source)
    if not responses:
        raise AssertionError(f"no answer to {data[:200]!r}")
    return responses[0]


def get(path):
    return f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")


class OneServer(unittest.TestCase):
    """A database loaded from ../shared/data and one `serve` for the class, in a working directory
    of its own."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="covid-etl-harden-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.cwd = os.path.join(cls.tmp, "cwd")
        os.makedirs(cls.data)
        os.makedirs(cls.cwd)
        cls.db = os.path.join(cls.data, "covid.db")
        load(cls.db)
        cls.server = Server(cls.db, cwd=cls.cwd)
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        shutil.rmtree(cls.tmp, True)

    def healthz_ok(self):
        r = one(self.port, get("/healthz"))
        self.assertEqual(r.status, 200)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return True
    if hard != resource.RLIM_INFINITY and hard < want:
        return False
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return True


class SlowClients(OneServer):
    SLOW = 1000          # a header byte every 10 s (slowloris)
    DRIP_HEADER = 20     # a header byte every 0.5 s: a deadline per read would never fire
    DRIP_BODY = 10       # a whole header, then a body byte every 0.5 s
    SILENT = 20          # connected, never a byte (a server that waits for them 60 s fails here)
    DEADLINE = 10.0      # ServerLimits::read_timeout and header_timeout
    PROMPT = 2.0         # every normal request is answered within this (generous: 2 shared cores)

    def test_slow_clients_do_not_stop_others_and_are_closed_by_the_request_deadline(self):
        total = self.SLOW + self.DRIP_HEADER + self.DRIP_BODY + self.SILENT
        if not raise_nofile(total + 300):
            self.skipTest(f"this process may not open {total + 300} files")
        header = b"GET /api/v1/summary HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\nX-Pad: " + b"a" * 2000
        body_head = (b"POST /api/v1/series HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
                     b"Content-Type: text/plain\r\n\r\n")
        sel = selectors.DefaultSelector()
        socks = []  # [socket, kind, time of its first byte, bytes sent, time closed, data received]
        self.addCleanup(lambda: [c[0].close() for c in socks])
        self.addCleanup(sel.close)
        for i in range(total):
            # Many clients: a few connections from each address (the server allows 64 per client).
            s = connect(self.port, client_address(i // 8))
            kind = ("slow" if i < self.SLOW else "drip" if i < self.SLOW + self.DRIP_HEADER
                    else "body" if i < self.SLOW + self.DRIP_HEADER + self.DRIP_BODY else "silent")
            first = body_head if kind == "body" else b"" if kind == "silent" else header[:1]
            if first:
                s.sendall(first)
            s.setblocking(False)
            c = [s, kind, time.monotonic(), len(first), None, b""]
            socks.append(c)
            sel.register(s, selectors.EVENT_READ, c)
        opened = time.monotonic()
        print(f"\n  {total} slow connections opened in {opened - socks[0][2]:.1f} s")

        # Meanwhile, another client asks on fresh connections and on a kept-alive one.
        latencies, failures, answered_at = [], [], []

        def normal_client():
            keep = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                for i in range(60):
                    path = ("/api/v1/summary", "/healthz", "/api/v1/series?from=2021-01-01", "/")[i % 4]
                    t = time.monotonic()
                    try:
                        if i % 2:
                            keep.request("GET", path)
                            r = keep.getresponse()
                        else:
                            c = http.client.HTTPConnection(HOST, self.port, timeout=10)
                            c.request("GET", path)
                            r = c.getresponse()
                        r.read()
                        latencies.append(time.monotonic() - t)
                        answered_at.append(time.monotonic())
                        if r.status != 200:
                            failures.append((path, r.status))
                        if not i % 2:
                            c.close()
                    except OSError as e:
                        failures.append((path, repr(e)))
                    time.sleep(0.14)  # 60 requests over about 9 s: while the slow ones are open
            finally:
                keep.close()

        client = threading.Thread(target=normal_client)
        client.start()

        deadline = opened + self.DEADLINE + 25  # bounded: everything is over well within 60 s
        next_slow = socks[0][2] + 10.0
        next_drip = time.monotonic() + 0.5
        open_count = total
        while open_count and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.1):
                c = key.data
                try:
                    chunk = c[0].recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    c[5] += chunk
                    continue
                c[4] = time.monotonic()
                sel.unregister(c[0])
                open_count -= 1
            now = time.monotonic()
            for kind, due in (("slow", now >= next_slow), ("drip", now >= next_drip), ("body", now >= next_drip)):
                if not due:
                    continue
                for c in socks:
                    if c[1] != kind or c[4] is not None:
                        continue
                    data = b"x" if kind == "body" else header[c[3]:c[3] + 1]
                    try:
                        c[3] += c[0].send(data)
                    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                        pass  # closed by the server: seen by recv
            if now >= next_slow:
                next_slow += 10.0
            if now >= next_drip:
                next_drip += 0.5
        client.join(timeout=30)

        # Others were answered, every time promptly.
        self.assertEqual(failures, [])
        self.assertEqual(len(latencies), 60)
        latencies.sort()
        print(f"  60 normal requests meanwhile: median {latencies[30] * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms (bound {self.PROMPT:.0f} s)")
        self.assertLess(latencies[-1], self.PROMPT)
        # ... and most of them while all the slow ones were still connected.
        first_close = min((c[4] for c in socks if c[4] is not None), default=time.monotonic())
        during = sum(1 for t in answered_at if t < first_close)
        print(f"  {during} of them answered while all {total} slow connections were open")
        self.assertGreaterEqual(during, 40)

        # Every slow one was closed by the server, at its header or request deadline, with no
        # answer; and every silent one at its header deadline.
        still_open = [c for c in socks if c[4] is None]
        self.assertEqual(len(still_open), 0, f"{len(still_open)} slow connections still open after "
                                             f"{deadline - opened:.0f} s: "
                                             f"{sorted(set(c[1] for c in still_open))}")
        for kind in ("slow", "drip", "body", "silent"):
            group = [c for c in socks if c[1] == kind]
            ages = sorted(c[4] - c[2] for c in group)
            print(f"  {len(group)} {kind}: closed {ages[0]:.1f} .. {ages[-1]:.1f} s after their first byte, "
                  f"having sent {min(c[3] for c in group)} .. {max(c[3] for c in group)} bytes")
            self.assertGreater(ages[0], self.DEADLINE - 0.5, kind)  # not before the deadline
            self.assertLess(ages[-1], self.DEADLINE + 15, kind)     # and not long after it
            for c in group:
                self.assertNotIn(b"200 OK", c[5], kind)  # never answered as if complete
        # The server let go of them all and still answers.
        metrics = one(self.port, get("/metrics")).body.decode()
        open_now = int(re.search(r"^covid_etl_http_connections_open (\d+)$", metrics, re.M).group(1))
        self.assertLess(open_now, 10)
        self.healthz_ok()


def closed_by_server(sock):
    """Whether the server has closed sock (a FIN or a reset seen), without waiting."""
    timeout = sock.gettimeout()
    sock.settimeout(0)  # non-blocking for this look (with a timeout, recv would wait that long)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except (ConnectionResetError, ConnectionAbortedError):
        return True
    finally:
        sock.settimeout(timeout)


def wait_closed(socks, timeout):
    """Waits up to timeout for the server to close every one of socks; returns how many it did."""
    deadline = time.monotonic() + timeout
    while True:
        closed = sum(1 for s in socks if closed_by_server(s))
        if closed == len(socks) or time.monotonic() > deadline:
            return closed
        time.sleep(0.05)


def metric(port, name):
    body = one(port, get("/metrics"), source=client_address(999)).body.decode()
    m = re.search(rf"^{re.escape(name)} (\d+)$", body, re.M)
    if not m:
        raise AssertionError(f"no {name} in /metrics")
    return int(m.group(1))


class ClientLimits(OneServer):
    IDLE = 10_050      # idle connections from one address (issue 15: they took every place)
    PER_CLIENT = 64    # ServerLimits::max_connections_per_client
    CLIENTS = 50       # normal clients afterwards, each from an address of its own
    PROMPT = 0.100     # each answered within this: the bound issue 15 asks for

    def write_config(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_10050_idle_connections_from_one_address_leave_room_for_other_clients(self):
        if not raise_nofile(self.IDLE + 500):
            self.skipTest(f"this process may not open {self.IDLE + 500} files")
        idle = []
        self.addCleanup(lambda: [s.close() for s in idle])
        started = time.monotonic()
        for _ in range(self.IDLE):
            idle.append(connect(self.port, HOST))
        opened = time.monotonic() - started
        # All but the first 64 are closed at once, without an answer.
        closed = wait_closed(idle[self.PER_CLIENT:], 10)
        print(f"\n  {self.IDLE} idle connections from {HOST} opened in {opened:.2f} s; "
              f"{closed} closed by the server at once")
        self.assertEqual(closed, self.IDLE - self.PER_CLIENT)
        self.assertEqual(sum(1 for s in idle[:self.PER_CLIENT] if closed_by_server(s)), 0)

        # Other clients are answered, each promptly: a new connection, a request, the whole answer.
        latencies = []
        for i in range(self.CLIENTS):
            path = ("/healthz", "/api/v1/summary")[i % 2]
            t = time.monotonic()
            r = one(self.port, get(path), source=client_address(i))
            latencies.append(time.monotonic() - t)
            self.assertEqual(r.status, 200, path)
        latencies.sort()
        print(f"  then {self.CLIENTS} other clients: median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms (bound {self.PROMPT * 1000:.0f} ms each)")
        self.assertLess(latencies[-1], self.PROMPT)
        self.assertLessEqual(metric(self.port, "covid_etl_http_connections_open"), self.PER_CLIENT + 2)
        # The connections kept are usable.
        idle[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        responses, closed, _ = read_responses(idle[0], ["GET"])
        self.assertEqual((responses[0].status, closed), (200, False))

    def test_a_full_table_closes_the_connection_idle_longest(self):
        config = self.write_config("small.toml", "[serve]\nmax_connections = 6\nmax_connections_per_client = 0\n")
        server = Server(self.db, "--config", config, cwd=self.cwd)
        self.addCleanup(server.kill)
        conns = []
        self.addCleanup(lambda: [s.close() for s in conns])
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

        def ask(s):
            s.sendall(request)
            responses, closed, _ = read_responses(s, ["GET"])
            self.assertEqual((responses[0].status, closed), (200, False))

        for _ in range(6):  # the table full of idle kept-alive connections, conns[0] idle longest
            conns.append(connect(server.port))
            ask(conns[-1])
        # A new client is answered; the connection idle longest made room for it.
        conns.append(connect(server.port))
        ask(conns[-1])
        self.assertEqual(wait_closed(conns[:1], 5), 1)
        self.assertEqual([closed_by_server(s) for s in conns], [True] + [False] * 6)
        # What counts is the last activity: conns[1] asks again, so conns[2] is the one to go.
        ask(conns[1])
        conns.append(connect(server.port))
        ask(conns[-1])
        self.assertEqual(wait_closed(conns[2:3], 5), 1)
        self.assertEqual([closed_by_server(s) for s in conns], [True, False, True] + [False] * 5)
        # A connection that has not sent a whole request is never closed to make room: with the
        # table full of those, a new connection is closed at once (they go at their header deadline).
        for s in conns:
            s.close()
        conns.clear()
        deadline = time.monotonic() + 5
        while metric(server.port, "covid_etl_http_connections_open") > 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the server has seen them go (1: the connection asking)
        for _ in range(6):
            conns.append(connect(server.port))
        conns[0].sendall(b"GET /healthz HTTP/1.1\r\n")  # part of a header
        late = connect(server.port)
        conns.append(late)
        self.assertEqual(wait_closed([late], 5), 1)
        self.assertFalse(any(closed_by_server(s) for s in conns[:6]))

    def test_a_silent_connection_is_closed_at_the_header_deadline_not_the_idle_time(self):
        config = self.write_config("header.toml", "[serve]\nheader_timeout_ms = 1000\n")
        server = Server(self.db, "--config", config, cwd=self.cwd)
        self.addCleanup(server.kill)
        silent = connect(server.port)
        partial = connect(server.port)
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        kept = connect(server.port)
        self.addCleanup(lambda: [s.close() for s in (silent, partial, kept)])
        t = time.monotonic()
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        responses, closed, _ = read_responses(kept, ["GET"])
        self.assertEqual((responses[0].status, closed), (200, False))
        # The two that never sent a whole header are closed at their deadline (1 s), not before.
        self.assertEqual(wait_closed([silent, partial], 10), 2)
        self.assertGreater(time.monotonic() - t, 0.9)
        # A kept-alive connection waits for its next request by the idle time (60 s): still open.
        time.sleep(max(0.0, t + 1.5 - time.monotonic()))
        self.assertFalse(closed_by_server(kept))
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        responses, closed, _ = read_responses(kept, ["GET"])
        self.assertEqual((responses[0].status, closed), (200, False))


class MalformedRequests(OneServer):
    def status_of(self, data, method="GET"):
        return one(self.port, data, method).status

    def assert_rejected(self, data, status, what=None):
        """status, a JSON body, Connection: close, and the connection really closed."""
        responses, closed = exchange(self.port, data)
        self.assertTrue(responses, f"no answer to {what or data[:120]!r}")
        r = responses[0]
        self.assertEqual(r.status, status, what or data[:200])
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), what)
        self.assertEqual(r.headers.get("connection"), "close", what)
        self.assertEqual(len(responses), 1, what)
        self.assertTrue(closed, what)

    def test_header_over_the_limit_is_431(self):
        for data in (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: abc\r\n" * 800 + b"\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " + b"c=1; " * 1700 + b"\r\n\r\n",
                     # Just over 8 KiB in all, in one field that alone is under it.
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 4000 + b"\r\nX-B: " + b"b" * 4200 + b"\r\n\r\n"):
            self.assert_rejected(data, 431, data[:60])
        # A header that never ends is cut at the limit too (no need to wait for its end).
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(20):
                try:
                    s.sendall(b"X-Endless: " + b"e" * 1000 + b"\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
            responses, _, _ = read_responses(s, ["GET"])
            self.assertEqual(responses[0].status, 431)
        # Just under the limit: answered.
        ok = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fill: " + b"f" * 7900 + b"\r\n\r\n"
        self.assertLess(len(ok), 8 * 1024)
        self.assertEqual(self.status_of(ok), 200)

    def test_url_over_the_limit_is_414(self):
        for data in (b"GET /api/v1/series?from=" + b"9" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /" + b"a" * 2100 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /" + b"%2e" * 1000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
            self.assert_rejected(data, 414, data[:40])
        # 2 KiB exactly is still a target: a 404, not a 414.
        self.assertEqual(self.status_of(get("/" + "a" * 2047)), 404)

    def test_body_over_the_limit_is_413(self):
        self.assert_rejected(b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n", 413)
        chunked = b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        self.assert_rejected(chunked + (b"8000\r\n" + b"z" * 0x8000 + b"\r\n") * 3 + b"0\r\n\r\n", 413)

    def test_content_length_with_transfer_encoding_is_400(self):
        for data in (
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                b"0\r\n\r\n",
                b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\ntransfer-encoding: CHUNKED\r\n\r\n"
                b"0\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: identity\r\n\r\n"):
            self.assert_rejected(data, 400, data[:120])

    def test_other_smuggling_shapes_are_400(self):
        # A Transfer-Encoding whose last coding is not chunked: the body's length is unknown
        # (RFC 9112 6.3: 400 and close), never "no body" followed by a smuggled request.
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for te in (b"gzip", b"chunked, gzip", b"identity", b"xchunked", b"\"chunked\"", b""):
            data = (b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + b"\r\n\r\n" + smuggled)
            self.assert_rejected(data, 400, te)
        for data in (
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 5\r\n\r\nhello",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
                b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
                b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                b"POST /api/v1/series HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"):
            self.assert_rejected(data, 400, data[:120])
        # Duplicate lengths that agree are harmless, and answered.
        r = one(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertIn(r.status, (200, 400))

    def test_obsolete_line_folding_is_400(self):
        for data in (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n\tb\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 0\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n"):
            self.assert_rejected(data, 400, data)

    def test_invalid_header_characters_are_400(self):
        for data in (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad(Name): 1\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01b\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Del: a\x7fb\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Name\x00: 1\r\n\r\n",
                     b"GET /health\x00z HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /healthz\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /healthz  HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET\t/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GE(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                     b" GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"GET /healthz HTTP/1.1\rHost: x\r\n\r\n"):
            self.assert_rejected(data, 400, data)

    def test_bare_lf_line_ends_are_answered_not_left_hanging(self):
        # Beast requires CRLF; the answer must come at once (a 400), not after the 10 s deadline.
        for data in (b"GET /healthz HTTP/1.1\nHost: x\n\n", b"GET /healthz HTTP/1.1\r\nHost: x\n\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\n\n"):
            t = time.monotonic()
            self.assert_rejected(data, 400, data)
            self.assertLess(time.monotonic() - t, 3.0, data)

    def test_bad_http_versions(self):
        for version in (b"HTTP/1", b"HTTP/1.1.1", b"HTTP/11", b"http/1.1", b"HTTPS/1.1", b"HTTP/a.b", b"HTTP/1.1x",
                        b"HTTP/ 1.1", b"HTTP/1.1 "):
            self.assert_rejected(b"GET /healthz " + version + b"\r\nHost: x\r\n\r\n", 400, version)
        self.assert_rejected(b"GET /healthz\r\nHost: x\r\n\r\n", 400, "HTTP/0.9 without a version")
        # Well formed, but a version this server does not speak: 400 too (HTTP/1.0 and 1.1 only).
        for version in (b"HTTP/2.0", b"HTTP/3.0", b"HTTP/0.9", b"HTTP/9.9", b"HTTP/1.2"):
            self.assert_rejected(b"GET /healthz " + version + b"\r\nHost: x\r\n\r\n", 400, version)
        self.assert_rejected(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "the HTTP/2 preface")
        for version in (b"HTTP/1.0", b"HTTP/1.1"):
            self.assertEqual(self.status_of(b"GET /healthz " + version + b"\r\nHost: x\r\nConnection: close\r\n\r\n"),
                             200, version)

    def test_only_get_and_head_on_data_paths(self):
        paths = ["/", "/index.html", "/app.js", "/api/v1/series", "/api/v1/summary", "/api/v1/runs",
                 "/api/v1/export.csv", "/healthz", "/metrics"]
        for path in paths:
            for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "FOO"):
                data = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                r = one(self.port, data.encode())
                self.assertEqual(r.status, 405, (method, path))
                self.assertEqual(r.headers.get("allow"), "GET, HEAD", (method, path))
            for method in ("GET", "HEAD"):
                r = one(self.port, f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), method)
                self.assertEqual(r.status, 200, (method, path))
                if method == "HEAD":
                    self.assertEqual(r.body, b"")
        # TRACE must not reflect the request (cross-site tracing): with a cookie it is still a 405.
        r = one(self.port, b"TRACE / HTTP/1.1\r\nHost: x\r\nCookie: secret=s3cr3t\r\nConnection: close\r\n\r\n")
        self.assertEqual(r.status, 405)
        self.assertNotIn(b"s3cr3t", r.body)
        # Methods are case-sensitive: "get" is not GET.
        self.assertEqual(self.status_of(b"get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 405)
        # CONNECT in authority form and OPTIONS * name no path: 404.
        self.assertEqual(self.status_of(b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404)
        self.assertEqual(self.status_of(b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404)

    def test_pipelining(self):
        reqs = [("GET", "/healthz"), ("HEAD", "/api/v1/series"), ("GET", "/api/v1/series?from=2022-04-18"),
                ("GET", "/nope"), ("POST", "/healthz"), ("GET", "/api/v1/series?from=bad"),
                ("GET", "/api/v1/summary")]
        data = b"".join(f"{m} {p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode() for m, p in reqs)
        data += b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        methods = [m for m, _ in reqs] + ["GET"]
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            # Sent in awkward pieces: a request split anywhere is still whole when parsed.
            for i in range(0, len(data), 37):
                s.sendall(data[i:i + 37])
            responses, _, rest = read_responses(s, methods)
            self.assertEqual(s.recv(1), b"")  # and then closed, as the last one asked
        self.assertEqual([r.status for r in responses], [200, 200, 200, 404, 405, 400, 200, 200])
        self.assertEqual(rest, b"")
        self.assertEqual(json.loads(responses[0].body)["status"], "ok")
        self.assertEqual(responses[1].body, b"")
        self.assertIn(b'"2022-04-19"', responses[2].body)
        self.assertIn(b'"latest"', responses[6].body)
        # A chunked body is read as such, and what follows it is the next request.
        data = (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\nGET / \r\n0\r\n\r\n" + get("/healthz"))
        responses, closed = exchange(self.port, data, ("POST", "GET"))
        self.assertEqual(([r.status for r in responses], closed), ([405, 200], True))
        # All in one write, many at once: 100 answers in order.
        with socket.create_connection((HOST, self.port), timeout=10) as s:
            s.sendall(b"".join(f"GET /api/v1/series?from=2022-04-{10 + i % 10} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                               for i in range(100)))
            responses, _, _ = read_responses(s, ["GET"] * 100)
        self.assertEqual(len(responses), 100)
        for i, r in enumerate(responses):
            self.assertEqual(r.status, 200)
            self.assertIn(f'"from":"2022-04-{10 + i % 10}"'.encode(), r.body.replace(b" ", b""))
        # A request after a rejected one on the same connection is not read: the connection closes.
        responses, closed = exchange(self.port, b"GET /x HTTP/1.1\r\nHost: x\r\nX-Nul: \x00\r\n\r\n" + get("/healthz"),
                                     ("GET", "GET"))
        self.assertEqual([r.status for r in responses], [400])
        self.assertTrue(closed)


class PathTraversal(OneServer):
    CWD_MARKER = "covid-etl-planted-in-cwd-7c1e5"
    DB_MARKER = "covid-etl-planted-by-db-94ad2"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for folder, marker in ((cls.cwd, cls.CWD_MARKER), (cls.data, cls.DB_MARKER)):
            for name in ("secret.txt", "index.html", "app.js", "passwd"):
                with open(os.path.join(folder, name), "w") as f:
                    f.write(marker + "\n")
        os.makedirs(os.path.join(cls.cwd, "etc"))
        with open(os.path.join(cls.cwd, "etc", "passwd"), "w") as f:
            f.write(cls.CWD_MARKER + "\n")

    def assert_nothing_leaked(self, r, what):
        for marker in (self.CWD_MARKER, self.DB_MARKER, "root:x:0:0", "SQLite format 3"):
            self.assertNotIn(marker.encode(), r.body, what)
        for marker in (self.CWD_MARKER, self.DB_MARKER):
            self.assertNotIn(marker, str(r.headers), what)

    def targets(self):
        up = ["..", "%2e%2e", "%2E%2E", "%2e.", ".%2e", "%2E.", "%252e%252e", "%25252e%25252e",
              "%c0%ae%c0%ae", "%C0%AE%C0%AE", "%e0%80%ae%e0%80%ae", "%f0%80%80%ae%f0%80%80%ae", "%uff0e%uff0e",
              "\xc0\xae\xc0\xae", "..\\", "..%5c", "..%5C", "%2e%2e%5c", "..%255c", ".%00.", "..;"]
        sep = ["/", "%2f", "%2F", "%252f", "\\", "%5c", "%c0%af", "%e0%80%af", "//", "/./"]
        out = []
        for u in up:
            for s in sep:
                for leaf in ("etc/passwd", "secret.txt", "data/secret.txt", "data/covid.db", "cwd/secret.txt"):
                    out.append("/" + (u + s) * 6 + leaf)
                out.append("/" + u + s + "secret.txt")
                out.append("/static" + s + u + s + "secret.txt")
                out.append("/api/v1" + s + u + s + u + s + "secret.txt")
        out += ["/secret.txt", "/passwd", "/etc/passwd", "//etc/passwd", "///etc/passwd", "/./secret.txt",
                "/covid.db", "/data/covid.db", "/covid.db-wal", "/proc/self/environ", "/proc/self/cwd/secret.txt",
                "/proc/self/cmdline", "/dev/stdin", "/app.js%00", "/app.js%00.html", "/secret.txt%00",
                "/index.html%00/../secret.txt", "/%00", "/app.js/..", "/app.js/../secret.txt", "/./app.js",
                "/.//app.js", "/app.js/.", "/APP.JS", "/App.js", "/app.js;.html", "/app.js.", "/app.js%20",
                "/%61pp.js", "/%2fetc%2fpasswd", "/%2Fsecret.txt", "/~root", "/.git/config", "/.env",
                "/..", "/.", "/%2e", "/%2e%2e", "/...", "/....//....//etc/passwd", "/%u002e%u002e/secret.txt",
                "/api/v1/runs/..", "/api/v1/runs/.", "/api/v1/runs/%2e%2e", "/api/v1/runs/..%2f..%2fsecret.txt",
                "/" + os.path.join(self.cwd, "secret.txt").lstrip("/"), "/" + self.db.lstrip("/"),
                "/" + os.path.join(self.data, "secret.txt").lstrip("/")]
        return out

    def test_traversal_in_any_encoding_is_404_and_nothing_outside_the_assets_is_served(self):
        seen = 0
        for target in self.targets():
            data = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
            r = one(self.port, data)
            self.assertEqual(r.status, 404, target)
            self.assert_nothing_leaked(r, target)
            seen += 1
        # The same through HEAD and through absolute-form targets (http://host/path).
        for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/secret.txt"):
            for form in (target, "http://x" + target, "http://127.0.0.1:1" + target, "https://x/." + target,
                         "http://x/../../etc/passwd", "file:///etc/passwd", "file://" + self.db):
                r = one(self.port, f"GET {form} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                self.assertEqual(r.status, 404, form)
                self.assert_nothing_leaked(r, form)
                r = one(self.port, f"HEAD {form} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), "HEAD")
                self.assertEqual(r.status, 404, form)
                seen += 2
        print(f"\n  {seen} traversal targets: all 404, no planted file, database or /etc/passwd in any answer")

    def test_raw_nul_in_the_target_is_a_bad_request(self):
        # A NUL byte is not allowed in a request line at all: 400 before any routing.
        for target in (b"/app.js\x00", b"/\x00../secret.txt", b"/..\x00/secret.txt"):
            r = one(self.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertEqual(r.status, 400, target)
            self.assert_nothing_leaked(r, target)

    def test_queries_and_headers_never_name_a_file(self):
        # Traversal in the query or the headers: the page, a 400 or a 404, never a file.
        for target in ("/?file=../secret.txt", "/?../../etc/passwd", "/index.html?path=%2e%2e%2fsecret.txt",
                       "/app.js?../secret.txt", "/api/v1/series?location=../../etc/passwd",
                       "/api/v1/series?location=..%2fsecret.txt", "/api/v1/export.csv?location=%2e%2e%2fdata%2fcovid.db",
                       "/api/v1/runs?limit=../1", "/api/v1/summary?location=/etc/passwd"):
            r = one(self.port, get(target))
            self.assertIn(r.status, (200, 400, 404), target)
            self.assert_nothing_leaked(r, target)
        for header in ("X-Original-URL: /../secret.txt", "X-Rewrite-URL: /secret.txt", "Host: ../../secret.txt",
                       "X-Forwarded-Prefix: /..", "Referer: file:///etc/passwd"):
            data = f"GET /nope HTTP/1.1\r\nHost: x\r\n{header}\r\nConnection: close\r\n\r\n".encode()
            r = one(self.port, data)
            self.assertEqual(r.status, 404, header)
            self.assert_nothing_leaked(r, header)

    def test_the_embedded_files_still_are_served(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "web", "src", "app.js"), "rb") as f:
            app = f.read()
        r = one(self.port, get("/app.js"))
        self.assertEqual((r.status, r.body), (200, app))  # not the planted app.js in the cwd
        r = one(self.port, get("/index.html"))
        self.assertEqual(r.status, 200)
        self.assert_nothing_leaked(r, "/index.html")


class TriggerEndpoint(TempDirTest):
    TOKEN = "covid-etl-fake-trigger-token-5e0c3a"

    def setUp(self):
        super().setUp()
        self.assertEqual(run_json(self.db)[0], 0)  # data in place: no catch-up run
        config = self.write("covid-etl.toml", f'[sources]\nnyt = "{NYT}"\njhu = "{JHU}"\n'
                                              f'[schedule]\ncron = "0 0 1 1 *"\n')
        self.daemon = test_daemon.Daemon(self, config, env={"COVID_ETL_TRIGGER_TOKEN": self.TOKEN})
        self.port = int(self.daemon.base.rsplit(":", 1)[1])

    def trigger(self, authorization=None, method="POST", path="/api/v1/runs"):
        auth = f"Authorization: {authorization}\r\n" if authorization is not None else ""
        data = f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
        return one(self.port, data.encode())

    def assert_no_token(self, r):
        self.assertNotIn(self.TOKEN.encode(), r.body)
        self.assertNotIn(self.TOKEN, str(r.headers))
        self.assertNotIn(self.TOKEN[:12], r.body.decode())  # not even a prefix

    def trigger_from(self, source, authorization):
        data = (f"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n"
                f"Content-Length: 0\r\nConnection: close\r\n\r\n")
        return one(self.port, data.encode(), source=source)

    def test_wrong_tokens_lock_out_their_own_address_only(self):
        # Five wrong tokens from 127.0.0.1 lock that address out for a minute ...
        for i in range(5):
            self.assertEqual(self.trigger_from("127.0.0.1", f"Bearer guess-{i}").status, 401)
        self.assertEqual(self.trigger_from("127.0.0.1", "Bearer " + self.TOKEN).status, 429)
        # ... not the owner, who triggers from another address with the right token.
        r = self.trigger_from("127.0.0.2", "Bearer " + self.TOKEN)
        self.assertEqual(r.status, 202, r)
        self.assert_no_token(r)
        # Which has its own count of wrong tokens: four more are 401, not 429.
        for i in range(4):
            self.assertEqual(self.trigger_from("127.0.0.2", f"Bearer guess-{i}").status, 401)
        self.assertEqual(self.trigger_from("127.0.0.1", "Bearer " + self.TOKEN).status, 429)
        self.assertEqual(self.daemon.stop(), 0)

    def test_wrong_tokens_are_401_then_every_trigger_429(self):
        wrong = ["Bearer " + self.TOKEN[:-1], "Bearer " + self.TOKEN + "x", "Basic " + self.TOKEN, self.TOKEN,
                 "Bearer " + self.TOKEN.upper()]
        r = self.trigger()  # no token at all: 401 too, and it counts
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")
        self.assert_no_token(r)
        for auth in wrong[:4]:
            r = self.trigger(auth)
            self.assertEqual(r.status, 401, auth)
            self.assert_no_token(r)
        # Five wrong in a minute: every trigger is refused for a minute, the right token too.
        for auth in ("Bearer " + self.TOKEN, wrong[4]):
            r = self.trigger(auth)
            self.assertEqual(r.status, 429, auth)
            self.assertEqual(r.headers.get("retry-after"), "60")
            self.assert_no_token(r)
        # No run was started; the rest of the API is not limited.
        r = self.trigger(method="GET", path="/api/v1/runs")
        self.assertEqual((r.status, [run["id"] for run in json.loads(r.body)["runs"]]), (200, [1]))
        self.assertEqual(self.trigger(method="GET", path="/api/v1/summary").status, 200)
        self.assertEqual(self.trigger(method="GET", path="/api/v1/runs/1").status, 200)
        self.assertEqual(self.daemon.stop(), 0)
        self.assertFalse([l for l in self.daemon.lines if self.TOKEN[:12] in l], self.daemon.lines)

    def test_the_scheme_is_read_without_regard_to_case(self):
        # RFC 9110 11.1: "bearer", "BEARER" are the same scheme (and one or more spaces follow it).
        statuses = [self.trigger(auth).status for auth in ("bearer " + self.TOKEN, "BEARER  " + self.TOKEN)]
        self.assertEqual(statuses[0], 202)
        self.assertIn(statuses[1], (202, 409))
        # Nothing was counted as a wrong token: a third trigger is not refused as a guess.
        self.assertNotEqual(self.trigger("Bearer " + self.TOKEN).status, 429)
        self.assertEqual(self.daemon.stop(), 0)

    def test_concurrent_guesses_get_at_most_five_401s_a_minute(self):
        r = self.trigger("Bearer " + self.TOKEN)
        self.assertIn(r.status, (202, 409))
        self.assert_no_token(r)
        # Many wrong tokens at once from many connections: at most five 401s in the minute.
        statuses = []
        lock = threading.Lock()

        def attack(i):
            s = self.trigger(f"Bearer guess-{i}").status
            with lock:
                statuses.append(s)

        threads = [threading.Thread(target=attack, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(len(statuses), 40)
        self.assertEqual(statuses.count(401), 5, statuses)
        self.assertEqual(statuses.count(429), 35, statuses)

    def test_traversal_on_the_runs_path_is_404(self):
        for path in ("/api/v1/runs/..", "/api/v1/runs/.", "/api/v1/runs/%2e%2e", "/api/v1/runs/..%2f..%2fetc%2fpasswd",
                     "/api/v1/runs/../../etc/passwd", "/api/v1/runs/1/..", "/api/v1/runs/./1"):
            for method in ("GET", "HEAD", "POST"):
                r = one(self.port, f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.TOKEN}\r\n"
                                   f"Content-Length: 0\r\nConnection: close\r\n\r\n".encode(), method)
                self.assertEqual(r.status, 404, (method, path))
                self.assertNotIn(b"root:", r.body)
        # Only POST triggers; the other methods are 405 with Allow.
        for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
            r = self.trigger("Bearer " + self.TOKEN, method=method)
            self.assertEqual(r.status, 405, method)
            self.assertEqual(r.headers.get("allow"), "GET, HEAD, POST", method)


if __name__ == "__main__":
    unittest.main()
