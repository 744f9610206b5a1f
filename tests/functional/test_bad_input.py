"""The real `poste serve` survives hostile and broken clients, and shuts down cleanly with work in flight.

After each test on the shared server, the server must still answer /healthz and poste_http_requests_in_flight
must return to what a scrape of an idle server shows (the scrape itself may count as one)."""

import select
import json
import socket
import struct
import time
import unittest

from harness import PosteServer, ServerTestCase, format_request, stop_and_assert_clean_exit

HEADER_TIMEOUT_MS = 1000


def read_reply(sock, timeout=5.0):
    """What the server sends until it closes (b"" for a bare close or a reset). Raises AssertionError when the
    server neither answers-and-closes nor closes within TIMEOUT."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        except socket.timeout:
            if data:
                return data  # answered and kept the connection open
            raise AssertionError("no response and no close within %.1fs" % timeout)
        if not chunk:
            return data
        data += chunk
        if b"\r\n\r\n" in data and time.monotonic() < deadline:
            sock.settimeout(0.5)  # headers arrived; give the body a moment, then stop waiting


def status_of(data):
    if not data.startswith(b"HTTP/1."):
        return None
    return int(data.split(b" ", 2)[1])


def hard_close(sock):
    """Close with RST (SO_LINGER 0), like a client that crashed."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class BadInput(ServerTestCase):
    SERVER_ENV = {"POSTE_SERVER__HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.idle_in_flight = cls.server.in_flight()

    def tearDown(self):
        self.assertServerFine()

    def assertServerFine(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual(r.status, 200, "the server no longer answers /healthz")
        deadline = time.monotonic() + 5
        value = self.server.in_flight()
        while value != self.idle_in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.server.in_flight()
        self.assertEqual(value, self.idle_in_flight,
                         "poste_http_requests_in_flight stays at %s (an idle server shows %s)"
                         % (value, self.idle_in_flight))
        self.assertIsNone(self.server.proc.poll(), "the server exited. Log:\n" + self.server.log_tail())

    def send_raw(self, data):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(data)
            return read_reply(s)
        finally:
            s.close()

    def assert400OrClose(self, data):
        reply = self.send_raw(data)
        if reply:
            self.assertEqual(status_of(reply), 400, "answer to %r: %r" % (data[:60], reply[:200]))

    # --------------------------------------------------------------------------------------------- malformed

    def test_garbage_request_line(self):
        self.assert400OrClose(b"GARBAGE\r\n\r\n")

    def test_request_line_without_target(self):
        self.assert400OrClose(b"GET\r\n\r\n")

    def test_binary_bytes(self):
        self.assert400OrClose(bytes(range(256)) + b"\r\n\r\n")

    def test_header_line_without_colon(self):
        self.assert400OrClose(b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n")

    def test_invalid_content_length(self):
        self.assert400OrClose(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: twelve\r\n\r\n")

    # --------------------------------------------------------------------------------------------- limits

    def test_huge_header_is_431(self):
        big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n"
        reply = self.send_raw(big)
        self.assertEqual(status_of(reply), 431,
                         "expected 431 for a 100 KiB header, got %r (an empty reply means the connection was closed "
                         "or reset before the 431 could be read)" % reply[:200])

    def test_declared_body_over_the_limit_is_413_before_the_body(self):
        for method, path in (("POST", "/healthz"), ("POST", "/no/such/route"), ("PUT", "/api/v1/anything")):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            try:
                # Headers only: a server that waited for the 2 MB body would time out here.
                s.sendall(format_request(method, path, {"Content-Length": "2000000",
                                                         "Content-Type": "application/json"}))
                started = time.monotonic()
                reply = read_reply(s, timeout=3)
            finally:
                s.close()
            self.assertEqual(status_of(reply), 413, "%s %s: %r" % (method, path, reply[:200]))
            self.assertLess(time.monotonic() - started, 2.5)

    def test_bodies_within_the_limit_reach_their_route(self):
        # Small, chunked and exactly-at-the-limit bodies are read, not refused: the route answers.
        login = "/api/v1/auth/login"
        json_type = {"Content-Type": "application/json"}
        r = self.server.request("POST", login, json_type, b'{"email":"nobody@example.com","password":"wrong-password"}')
        self.assertEqual(r.status, 401, r.body[:300])
        chunked = dict(json_type, **{"Transfer-Encoding": "chunked"})
        body = b'{"email":"nobody@example.com","password":"x"}'
        r = self.server.request("POST", login, chunked, b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.assertEqual(r.status, 401, r.body[:300])
        r = self.server.request("POST", "/no/such/route", {"Content-Length": str(1024 * 1024)}, b"x" * (1024 * 1024))
        self.assertEqual(r.status, 404, r.body[:300])

    def test_invalid_json_and_invalid_utf8_are_400_problems(self):
        json_type = {"Content-Type": "application/json"}
        for body, code in ((b'{"email": ', "invalid_json"), (b'{"email":"\xff\xfe@x.com","password":"p"}', "invalid_utf8")):
            r = self.server.request("POST", "/api/v1/auth/login", json_type, body)
            self.assertEqual(r.status, 400, r.body[:300])
            self.assertEqual(r.header("content-type"), "application/problem+json")
            problem = json.loads(r.body)
            self.assertEqual(problem["errors"][0]["field"], "body")
            self.assertEqual(problem["errors"][0]["code"], code)

    # --------------------------------------------------------------------------------------------- slow clients

    def test_slow_headers_get_408_or_close_and_others_are_served(self):
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 20 + b"\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            first_byte_at = time.monotonic()
            s.sendall(request[:1])
            # Another client is served at once while the slow one dawdles.
            t = time.monotonic()
            self.assertEqual(self.server.request("GET", "/healthz").status, 200)
            self.assertLess(time.monotonic() - t, 0.9, "a normal client waited behind the slow one")

            reply = None
            for i in range(1, len(request)):
                readable, _, _ = select.select([s], [], [], 1.0)  # one byte per second
                if readable:
                    reply = read_reply(s, timeout=2)
                    break
                if time.monotonic() - first_byte_at > 6:
                    break
                try:
                    s.sendall(request[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    reply = b""
                    break
            cut_after = time.monotonic() - first_byte_at
        finally:
            s.close()
        self.assertIsNotNone(reply, "the server still waited for headers after %.1fs (header timeout %d ms)"
                             % (cut_after, HEADER_TIMEOUT_MS))
        if reply:
            self.assertEqual(status_of(reply), 408, repr(reply[:200]))
        self.assertLess(cut_after, HEADER_TIMEOUT_MS / 1000 + 1.5,
                        "the slow client was cut only after %.1fs" % cut_after)

    # --------------------------------------------------------------------------------------------- disconnects

    def test_client_disconnects_mid_response(self):
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            headers = {"Accept-Encoding": "gzip"} if i % 2 else {}
            s.sendall(format_request("GET", "/api/v1/openapi.json", headers))
            self.assertTrue(s.recv(10))
            hard_close(s) if i % 3 else s.close()

    def test_client_disconnects_before_the_request_is_complete(self):
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if i % 2 else
                      b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
            hard_close(s) if i % 3 else s.close()

    def test_many_connections_at_once(self):
        socks = []
        try:
            for i in range(200):
                s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
                socks.append(s)
                if i % 4 == 0:
                    s.sendall(format_request("GET", "/healthz", {"X-Request-Id": "many-%d" % i}))
                elif i % 4 == 1:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # incomplete
            answered = 0
            for i in range(0, 200, 4):
                data = b""
                socks[i].settimeout(10)
                while b"\r\n\r\n" not in data:
                    chunk = socks[i].recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.assertEqual(status_of(data), 200, "connection %d: %r" % (i, data[:200]))
                self.assertIn(b"many-%d" % i, data)
                answered += 1
            self.assertEqual(answered, 50)
        finally:
            for i, s in enumerate(socks):
                hard_close(s) if i % 2 else s.close()


class Shutdown(unittest.TestCase):
    """SIGTERM: in-flight requests finish, idle connections do not hold the process, the exit code is 0."""

    def start(self, env=None):
        server = PosteServer(env=env)
        self.addCleanup(server.cleanup)
        return server.start()

    def test_sigterm_lets_an_in_flight_request_complete(self):
        server = self.start()
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(format_request("POST", "/healthz", {"Content-Length": "10", "Content-Type": "application/json"}))
        s.sendall(b'{"a":')
        time.sleep(0.3)
        signalled = time.monotonic()
        server.signal()
        time.sleep(0.4)
        try:
            s.sendall(b'"bcd"}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered (e.g. 405) before reading the body; the answer is still there
        data = read_reply(s, timeout=8)
        self.assertTrue(data.startswith(b"HTTP/1.1 "), "no response to the in-flight request: %r\nLog:\n%s"
                        % (data[:200], server.log_tail()))
        head, _, body = data.partition(b"\r\n\r\n")
        length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")]
        self.assertTrue(length, "response without Content-Length: %r" % head)
        self.assertEqual(len(body), length[0], "the response was cut short: %r" % data[:300])
        code = server.wait(15)
        self.assertEqual(code, 0, "exit code %s after SIGTERM. Log:\n%s" % (code, server.log_tail()))
        self.assertLess(time.monotonic() - signalled, 12, "shutdown overran the 10 s drain deadline")

    def test_idle_keep_alive_connections_do_not_block_shutdown(self):
        server = self.start()
        idle = []
        for i in range(5):
            c = server.connect()
            self.addCleanup(c.close)
            self.assertEqual(c.request("GET", "/healthz").status, 200)  # keep-alive, then idle
            idle.append(c)
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)  # never sends a byte
            self.addCleanup(s.close)
        started = time.monotonic()
        server.signal()
        code = server.wait(10)
        took = time.monotonic() - started
        self.assertEqual(code, 0, "exit code %s after SIGTERM. Log:\n%s" % (code, server.log_tail()))
        self.assertLess(took, 3.0, "idle connections held shutdown for %.1fs" % took)
        for c in idle:
            self.assertEqual(c.read_until_close(timeout=2), b"", "an idle connection got data on shutdown")

    def test_sigterm_on_an_idle_server_exits_zero_quickly(self):
        server = self.start()
        started = time.monotonic()
        stop_and_assert_clean_exit(self, server)
        self.assertLess(time.monotonic() - started, 3.0)


if __name__ == "__main__":
    unittest.main()
