"""Media uploads against the real `poste serve`: bodies streamed from a real socket in pieces, limits, and clients
that stall or vanish mid-upload. None of them may leave a file (temporary or partial) in data/media/{site_id}/."""

import json
import os
import socket
import struct
import time
import unittest

from harness import ServerTestCase, format_request

ADMIN_EMAIL = "media-admin@example.com"
ADMIN_PASSWORD = "a long media passphrase 7"
MAX_UPLOAD = 300000
BODY_TIMEOUT_MS = 1500
JSON = {"Content-Type": "application/json"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Media(ServerTestCase):
    SERVER_ENV = {
        "POSTE_ADMIN_EMAIL": ADMIN_EMAIL,
        "POSTE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "POSTE_MEDIA__MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "POSTE_SERVER__BODY_TIMEOUT_MS": str(BODY_TIMEOUT_MS),
    }
    sites = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        body = json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).encode()
        r = cls.server.request("POST", "/api/v1/auth/login", JSON, body)
        assert r.status == 200, r.text()
        cls.auth = {"Authorization": "Bearer " + json.loads(r.text())["access_token"]}

    def setUp(self):
        # A site per test, so that each test sees only its own files.
        Media.sites += 1
        body = json.dumps({"slug": "media-%d" % Media.sites, "name": "Media"}).encode()
        r = self.server.request("POST", "/api/v1/sites", dict(JSON, **self.auth), body)
        self.assertEqual(r.status, 201, r.text())
        self.site = json.loads(r.text())["id"]
        self.path = "/api/v1/sites/%d/media" % self.site

    def files(self):
        folder = os.path.join(self.server.data_dir, "media", str(self.site))
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def wait_for_no_files(self, seconds=5.0):
        deadline = time.monotonic() + seconds
        while self.files() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.files(), [])

    def head(self, length=None, chunked=False, extra=""):
        lines = ["POST %s?filename=doc.pdf HTTP/1.1" % self.path, "Host: test", self.auth_line()]
        if length is not None:
            lines.append("Content-Length: %d" % length)
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()

    def auth_line(self):
        return "Authorization: " + self.auth["Authorization"]

    def test_body_sent_in_pieces_is_stored_and_served_with_ranges(self):
        data = PDF + b"%" * 100000
        with self.server.connect() as conn:
            conn.send(self.head(len(data)))
            for i in range(0, len(data), 7000):
                conn.send(data[i:i + 7000])
                time.sleep(0.002)
            r = conn.read_response()
        self.assertEqual(r.status, 201, r.text())
        item = json.loads(r.text())
        self.assertEqual(item["size"], len(data))
        self.assertEqual(len(self.files()), 1)
        got = self.server.request("GET", item["url"], {"Range": "bytes=-10"})
        self.assertEqual(got.status, 206)
        self.assertEqual(got.body, data[-10:])
        whole = self.server.request("GET", item["url"])
        self.assertEqual(whole.status, 200)
        self.assertEqual(whole.body, data)
        self.assertEqual(whole.header("Cache-Control"), "public, max-age=31536000, immutable")

    def test_chunked_multipart_upload(self):
        body = (b"--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n" + PDF +
                b"\r\n--XB\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nAlt text\r\n--XB--\r\n")
        extra = "Content-Type: multipart/form-data; boundary=XB\r\n"
        with self.server.connect() as conn:
            conn.send(self.head(chunked=True, extra=extra))
            for i in range(0, len(body), 5):  # boundaries split across chunks and TCP writes
                piece = body[i:i + 5]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
            r = conn.read_response()
        self.assertEqual(r.status, 201, r.text())
        self.assertEqual(json.loads(r.text())["alt"], "Alt text")

    def test_client_disconnecting_mid_body_leaves_no_file(self):
        for rst in (False, True):
            sock = socket.create_connection(("127.0.0.1", self.server.port))
            sock.sendall(self.head(250000) + PDF + b"%" * 120000)
            time.sleep(0.2)
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            self.wait_for_no_files()
        self.assertEqual(self.server.request("GET", "/healthz").status, 200)
        listed = self.server.request("GET", self.path, self.auth)
        self.assertEqual(json.loads(listed.text())["items"], [])

    def test_stalled_upload_times_out_with_408_and_no_file(self):
        with self.server.connect() as conn:
            conn.send(self.head(200000) + PDF + b"%" * 50000)
            r = conn.read_response()
        self.assertProblem(r, 408)
        self.wait_for_no_files()

    def test_oversized_uploads_are_413_and_leave_no_file(self):
        # Announced: refused before the body.
        with self.server.connect() as conn:
            conn.send(self.head(MAX_UPLOAD + 10 ** 6))
            self.assertProblem(conn.read_response(), 413)
        # Chunked, so only counting finds it.
        with self.server.connect() as conn:
            conn.send(self.head(chunked=True))
            piece = PDF + b"%" * 65000
            try:
                for _ in range(10):
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server may answer and close before the client is done sending
            self.assertProblem(conn.read_response(), 413)
        self.wait_for_no_files()

    def test_refused_before_the_body_with_expect_continue(self):
        lines = ["POST %s?filename=doc.pdf HTTP/1.1" % self.path, "Host: test", "Authorization: Bearer wrong",
                 "Content-Length: 200000", "Expect: 100-continue"]
        with self.server.connect() as conn:
            conn.send(("\r\n".join(lines) + "\r\n\r\n").encode())
            r = conn.read_response()
        self.assertEqual(r.status, 401, "no 100 Continue for a request refused before its body")


if __name__ == "__main__":
    unittest.main()
