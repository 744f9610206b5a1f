"""Each server started by scripts/test-services answers. Fails (never skips) when its variables are missing."""

import glob
import imaplib
import json
import os
import shutil
import smtplib
import socket
import struct
import subprocess
import time
import unittest
import uuid
from urllib.parse import urlparse

HINT = 'run `scripts/test-services start` and `eval "$(scripts/test-services env)"` first'


class TestServices(unittest.TestCase):
    def env(self, name):
        value = os.environ.get(name)
        if not value:
            self.fail("env %s is not set: %s" % (name, HINT))
        return value

    def unique(self):
        return uuid.uuid4().hex

    # --------------------------------------------------------------------------------------------- PostgreSQL

    def test_postgresql_answers_a_query(self):
        url = self.env("POSTE_TEST_PG_URL")
        u = urlparse(url)
        self.assertEqual(u.scheme, "postgresql")
        psql = shutil.which("psql")
        if psql:
            p = subprocess.run([psql, url, "-XAtc", "SELECT 40 + 2"], capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.strip(), "42")
        else:
            self.assertEqual(pg_simple_query(u.hostname, u.port, u.username, u.path.lstrip("/"), "SELECT 40 + 2"), "42")

    # --------------------------------------------------------------------------------------------- Redis

    def test_redis_answers_ping_and_stores_a_value(self):
        u = urlparse(self.env("POSTE_TEST_REDIS_URL"))
        self.assertEqual(u.scheme, "redis")
        key, value = "poste-test-" + self.unique(), self.unique()
        with socket.create_connection((u.hostname, u.port), timeout=5) as s:
            f = s.makefile("rb")
            s.sendall(b"PING\r\n")
            self.assertEqual(f.readline(), b"+PONG\r\n")
            s.sendall(resp_command("SET", key, value, "EX", "60"))
            self.assertEqual(f.readline(), b"+OK\r\n")
            s.sendall(resp_command("GET", key))
            self.assertEqual(f.readline(), b"$%d\r\n" % len(value))
            self.assertEqual(f.readline(), value.encode() + b"\r\n")

    # --------------------------------------------------------------------------------------------- SMTP

    def test_smtp_capture_saves_each_message_as_a_file(self):
        host, port = self.env("POSTE_TEST_SMTP_HOST"), int(self.env("POSTE_TEST_SMTP_PORT"))
        folder = self.env("POSTE_TEST_SMTP_CAPTURE_DIR")
        self.assertTrue(os.path.isdir(folder), "%s is not a folder" % folder)
        msg_id = "<%s@poste.test>" % self.unique()
        message = ("From: a@example.test\r\nTo: b@example.test\r\nSubject: capture\r\nMessage-ID: %s\r\n\r\n"
                   "hello\r\n" % msg_id).encode()
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.login("tester", "any-password")
            refused = smtp.sendmail("a@example.test", ["b@example.test", "c@example.test"], message)
            self.assertEqual(refused, {})
        path = wait_for_file(folder, msg_id.encode())
        self.assertIsNotNone(path, "no .eml containing %s appeared in %s" % (msg_id, folder))
        with open(path[:-4] + ".json") as f:
            envelope = json.load(f)
        self.assertEqual(envelope["mail_from"], "a@example.test")
        self.assertEqual(envelope["rcpt_tos"], ["b@example.test", "c@example.test"])
        self.assertEqual(envelope["auth_user"], "tester")

    def test_smtp_capture_rejects_reject_recipients(self):
        host, port = self.env("POSTE_TEST_SMTP_HOST"), int(self.env("POSTE_TEST_SMTP_PORT"))
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.ehlo()
            code, _ = smtp.docmd("MAIL FROM:<a@example.test>")
            self.assertEqual(code, 250)
            self.assertEqual(smtp.docmd("RCPT TO:<reject-x@example.test>")[0], 550)
            self.assertEqual(smtp.docmd("RCPT TO:<tempfail-x@example.test>")[0], 451)

    def test_smtp_sink_accepts_messages(self):
        port = int(self.env("POSTE_TEST_SMTP_SINK_PORT"))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            for _ in range(3):
                refused = smtp.sendmail("a@example.test", ["b@example.test"], b"Subject: sink\r\n\r\nhello\r\n")
                self.assertEqual(refused, {})

    # --------------------------------------------------------------------------------------------- IMAP

    def test_imap_login_and_a_delivered_message_is_visible(self):
        host, port = self.env("POSTE_TEST_IMAP_HOST"), int(self.env("POSTE_TEST_IMAP_PORT"))
        user, password = self.env("POSTE_TEST_IMAP_USER"), self.env("POSTE_TEST_IMAP_PASSWORD")
        conf = self.env("POSTE_TEST_DOVECOT_CONF")
        subject = "delivered " + self.unique()
        msg_id = "<%s@poste.test>" % self.unique()
        message = ("From: sender@example.test\r\nTo: %s@example.test\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\n"
                   "hello from dovecot-lda\r\n" % (user, subject, msg_id)).encode()
        p = subprocess.run(["/usr/lib/dovecot/dovecot-lda", "-c", conf, "-d", user, "-f", "sender@example.test"],
                           input=message, capture_output=True, timeout=15)
        self.assertEqual(p.returncode, 0, "dovecot-lda failed: %s" % p.stderr.decode(errors="replace"))

        imap = imaplib.IMAP4(host, port, timeout=10)
        try:
            typ, _ = imap.login(user, password)
            self.assertEqual(typ, "OK")
            typ, _ = imap.select("INBOX")
            self.assertEqual(typ, "OK")
            typ, data = imap.search(None, "HEADER", "Message-ID", msg_id)
            self.assertEqual(typ, "OK")
            ids = data[0].split()
            self.assertEqual(len(ids), 1, "the delivered message is not in INBOX")
            typ, data = imap.fetch(ids[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            self.assertIn(subject.encode(), data[0][1])
        finally:
            try:
                imap.logout()
            except Exception:
                pass

    def test_imap_rejects_a_wrong_password(self):
        host, port = self.env("POSTE_TEST_IMAP_HOST"), int(self.env("POSTE_TEST_IMAP_PORT"))
        imap = imaplib.IMAP4(host, port, timeout=10)
        try:
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login(self.env("POSTE_TEST_IMAP_USER"), "wrong-password")
        finally:
            imap.shutdown()


# ------------------------------------------------------------------------------------------------ helpers


def resp_command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def wait_for_file(folder, needle, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(glob.glob(os.path.join(folder, "*.eml"))):
            with open(path, "rb") as f:
                if needle in f.read():
                    return path
        time.sleep(0.05)
    return None


def pg_simple_query(host, port, user, database, sql):
    """Minimal PostgreSQL wire protocol (trust auth only): returns the first column of the first row."""
    with socket.create_connection((host, port or 5432), timeout=10) as s:
        params = b"user\0%s\0database\0%s\0\0" % (user.encode(), (database or user).encode())
        body = struct.pack("!I", 196608) + params
        s.sendall(struct.pack("!I", len(body) + 4) + body)
        f = s.makefile("rb")

        def message():
            kind = f.read(1)
            (length,) = struct.unpack("!I", f.read(4))
            return kind, f.read(length - 4)

        while True:
            kind, payload = message()
            if kind == b"E":
                raise AssertionError("PostgreSQL error: %r" % payload)
            if kind == b"R" and struct.unpack("!I", payload[:4])[0] != 0:
                raise AssertionError("PostgreSQL asks for a password; the test server should trust")
            if kind == b"Z":
                break
        q = sql.encode() + b"\0"
        s.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)
        value = None
        while True:
            kind, payload = message()
            if kind == b"E":
                raise AssertionError("PostgreSQL error: %r" % payload)
            if kind == b"D" and value is None:
                (n,) = struct.unpack("!I", payload[2:6])
                value = payload[6:6 + n].decode()
            if kind == b"Z":
                return value


if __name__ == "__main__":
    unittest.main()
