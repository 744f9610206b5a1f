"""Harness for the functional tests: runs the real `poste` binary on a free loopback port and talks raw HTTP/1.1.

The binary comes from env POSTE_BIN (ctest sets it). Each PosteServer gets its own temporary data folder, its
own free port, and a log file with everything the process printed; stop() sends SIGTERM and returns the exit
code. Stdlib only, for Debian's /usr/bin/python3.
"""

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

READY_TIMEOUT = float(os.environ.get("POSTE_TEST_READY_TIMEOUT", "30"))
STOP_TIMEOUT = 15.0
IO_TIMEOUT = 10.0


def poste_bin():
    path = os.environ.get("POSTE_BIN", "")
    if not path:
        raise AssertionError(
            "env POSTE_BIN is not set: run these tests through ctest (which passes $<TARGET_FILE:poste>), "
            "or set POSTE_BIN=build/dev/src/app/poste"
        )
    if not os.access(path, os.X_OK):
        raise AssertionError("POSTE_BIN=%s is not an executable file (build it: ninja -C build/dev poste)" % path)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(overrides=None):
    """The process environment minus Poste's own configuration variables (a developer's POSTE_SERVER__LISTEN
    must not leak into a test), plus the given overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTE_") or k.startswith("POSTE_TEST_")}
    env.pop("POSTE_BIN", None)
    env.update(overrides or {})
    return env


def run_poste(args, env=None, cwd=None, timeout=30):
    """Runs `poste ARGS` to completion; returns the CompletedProcess (text stdout and stderr)."""
    return subprocess.run(
        [poste_bin()] + list(args),
        env=clean_env(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tail(path, lines=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


class PosteServer:
    """`poste serve --listen 127.0.0.1:PORT --data TMP/data`, with cwd TMP so no stray ./poste.toml is read."""

    def __init__(self, env=None, extra_args=None, data_dir=None):
        self.env = dict(env or {})
        self.extra_args = list(extra_args or [])
        self.tmp = tempfile.mkdtemp(prefix="poste-functional-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "poste.log")
        self.proc = None
        self.port = None
        self.exit_code = None

    # --------------------------------------------------------------------------------------------- lifecycle

    def start(self):
        last_error = None
        for _ in range(3):  # the free port may be taken between our probe and the server's bind
            self.port = free_port()
            try:
                self._start_once()
                return self
            except _PortTaken as e:
                last_error = e
        raise AssertionError("poste could not bind a free port three times: %s" % last_error)

    def _start_once(self):
        args = [poste_bin(), "serve", "--listen", "127.0.0.1:%d" % self.port]
        if self.data_dir:
            args += ["--data", self.data_dir]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            args + self.extra_args,
            env=clean_env(self.env),
            cwd=self.tmp,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            code = self.proc.poll()
            if code is not None:
                text = tail(self.log_path)
                if "address already in use" in text.lower():
                    raise _PortTaken(text)
                raise AssertionError("poste serve exited with %d before /readyz answered 200. Log:\n%s" % (code, text))
            try:
                r = request(self.port, "GET", "/readyz", timeout=2)
                if r.status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(
                    "poste serve did not answer GET /readyz 200 within %.0fs. Log:\n%s" % (READY_TIMEOUT, tail(self.log_path))
                )
            time.sleep(0.05)

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit; returns its exit code or None on timeout."""
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then waits; returns the exit code (kills and raises if it does not exit in time)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        if code is None:
            self.kill()
            raise AssertionError("poste did not exit within %.0fs of SIGTERM. Log:\n%s" % (timeout, tail(self.log_path)))
        self.log.close()
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        if getattr(self, "log", None) is not None and not self.log.closed:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)

    # --------------------------------------------------------------------------------------------- requests

    def request(self, method, path, headers=None, body=b"", timeout=IO_TIMEOUT):
        return request(self.port, method, path, headers, body, timeout)

    def connect(self, timeout=IO_TIMEOUT):
        return Connection(self.port, timeout)

    def metrics(self):
        r = self.request("GET", "/metrics")
        if r.status != 200:
            raise AssertionError("GET /metrics answered %d" % r.status)
        return r.text()

    def in_flight(self):
        """poste_http_requests_in_flight as seen by one scrape."""
        value = metric_value(self.metrics(), "poste_http_requests_in_flight")
        if value is None:
            raise AssertionError("/metrics has no poste_http_requests_in_flight sample")
        return value


class _PortTaken(Exception):
    pass


def stop_and_assert_clean_exit(testcase, server, timeout=STOP_TIMEOUT):
    code = server.stop(timeout)
    testcase.assertEqual(code, 0, "poste exited with %s after SIGTERM. Log:\n%s" % (code, server.log_tail()))


# ------------------------------------------------------------------------------------------------ raw HTTP


class Response:
    def __init__(self, status, reason, headers, body, head):
        self.status = status
        self.reason = reason
        self.headers = headers  # [(name, value)] in order
        self.body = body
        self.head = head  # the raw status line and headers

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def text(self):
        body = self.body
        if (self.header("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        return body.decode("utf-8")

    def __repr__(self):
        return "<Response %d %s, %d body bytes>" % (self.status, self.reason, len(self.body))


class ConnectionClosed(Exception):
    """The server closed the connection before a complete response (data: what had arrived)."""

    def __init__(self, data=b""):
        super().__init__("connection closed after %d bytes: %r" % (len(data), data[:200]))
        self.data = data


class Connection:
    """One client connection; read_response() reads exactly one response, so pipelining works."""

    def __init__(self, port, timeout=IO_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_request(self, method, path, headers=None, body=b""):
        self.send(format_request(method, path, headers, body))

    def request(self, method, path, headers=None, body=b""):
        self.send_request(method, path, headers, body)
        return self.read_response(head_only=(method == "HEAD"))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed(self.buf)
        self.buf += chunk

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, head_only=False):
        head = self._read_until(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("malformed status line %r" % lines[0])
        status = int(m.group(1))
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        r = Response(status, m.group(2) or "", headers, b"", head)
        if head_only or status in (204, 304) or 100 <= status < 200:
            return r
        if (r.header("Transfer-Encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size_line = self._read_until(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._read_until(b"\r\n")  # no trailers expected
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            r.body = body
        elif r.header("Content-Length") is not None:
            r.body = self._read_exact(int(r.header("Content-Length")))
        else:
            while True:
                try:
                    self._fill()
                except ConnectionClosed:
                    break
            r.body, self.buf = self.buf, b""
        return r

    def read_until_close(self, timeout=IO_TIMEOUT):
        """Everything until the server closes; raises socket.timeout if it does not close in time."""
        self.sock.settimeout(timeout)
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk


def format_request(method, path, headers=None, body=b""):
    headers = dict(headers or {})
    lower = {k.lower() for k in headers}
    if "host" not in lower:
        headers["Host"] = "127.0.0.1"
    if body and "content-length" not in lower and "transfer-encoding" not in lower:
        headers["Content-Length"] = str(len(body))
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + (body or b"")


def request(port, method, path, headers=None, body=b"", timeout=IO_TIMEOUT):
    """One request on a fresh connection (closed afterwards)."""
    with Connection(port, timeout) as c:
        return c.request(method, path, headers, body)


# ------------------------------------------------------------------------------------------------ metrics

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+-?\d+)?$")


def metric_samples(text):
    """[(name, labels-string, float value)] of every sample line; raises on a malformed line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("malformed Prometheus sample line: %r" % line)
        out.append((m.group(1), m.group(2) or "", float(m.group(3))))
    return out


def metric_value(text, name, label_filter=None):
    """Sum of the samples named NAME whose labels contain every 'k="v"' in label_filter; None if none match."""
    total = None
    for n, labels, value in metric_samples(text):
        if n != name:
            continue
        if label_filter and not all(('%s="%s"' % kv) in labels for kv in label_filter.items()):
            continue
        total = (total or 0.0) + value
    return total


# ------------------------------------------------------------------------------------------------ test bases


class ServerTestCase(unittest.TestCase):
    """One server for the whole class; env overrides in SERVER_ENV. Its clean SIGTERM exit is checked at the end."""

    SERVER_ENV = {}
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = PosteServer(env=cls.SERVER_ENV)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            if code != 0:
                raise AssertionError("poste exited with %s after SIGTERM. Log:\n%s" % (code, cls.server.log_tail()))
        finally:
            cls.server.cleanup()

    def assertProblem(self, r, status):
        """An RFC 9457 problem+json response with the given status."""
        self.assertEqual(r.status, status, "%r\n%s" % (r, r.body[:500]))
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/problem+json"), "Content-Type is %r" % ctype)
        doc = json.loads(r.text())
        for key in ("type", "title", "status", "detail"):
            self.assertIn(key, doc, "problem document lacks %r: %s" % (key, doc))
        self.assertEqual(doc["status"], status)
        return doc
