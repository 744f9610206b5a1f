"""`poste user ...` and `poste keys rotate` against the real binary: accounts made on the console sign in (or
not, once disabled), and after a master key rotation the server starts and still opens every secret."""

import base64
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

from harness import PosteServer, clean_env, poste_bin, stop_and_assert_clean_exit

JSON = {"Content-Type": "application/json"}


def totp(secret_b32, at=None, step=30, digits=6):
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return str(code).zfill(digits), counter


class CliIdentity(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="poste-cli-identity-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = os.path.join(self.tmp, "data")

    def poste(self, *args, stdin=None, env=None, expect=0):
        p = subprocess.run([poste_bin()] + list(args), env=clean_env(env), cwd=self.tmp,
                           input=stdin if stdin is not None else "", capture_output=True, text=True, timeout=60)
        if expect is not None:
            self.assertEqual(p.returncode, expect, "poste %s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def server(self, env=None):
        server = PosteServer(env=env, data_dir=self.data)
        self.addCleanup(server.cleanup)
        return server.start()

    def login(self, server, email, password, **extra):
        body = dict(email=email, password=password, **extra)
        return server.request("POST", "/api/v1/auth/login", JSON, json.dumps(body).encode())

    @staticmethod
    def bearer(token):
        return dict(JSON, Authorization="Bearer " + token)

    # --------------------------------------------------------------------------------------------- help

    def test_help_everywhere(self):
        self.assertIn("user", self.poste("--help").stdout)
        self.assertIn("keys", self.poste("--help").stdout)
        for cmd in (["user"], ["user", "add"], ["user", "passwd"], ["user", "list"], ["user", "disable"],
                    ["user", "enable"], ["keys"], ["keys", "rotate"]):
            out = self.poste(*cmd, "--help").stdout
            self.assertIn("--help", out, cmd)
        for cmd in (["user", "add"], ["user", "list"], ["keys", "rotate"]):
            out = self.poste(*cmd, "--help").stdout
            self.assertIn("--data", out)
            self.assertIn("--config", out)
        self.assertIn("--password-stdin", self.poste("user", "add", "--help").stdout)
        self.assertIn("--new-key-stdin", self.poste("keys", "rotate", "--help").stdout)

    # --------------------------------------------------------------------------------------------- users

    def test_user_round_trip_and_a_disabled_user_cannot_sign_in(self):
        out = self.poste("user", "add", "--data", self.data, "--email", "boss@example.com", "--name", "Boss",
                         "--role", "admin").stdout
        m = re.search(r"shown once\):\s+(\S+)", out)
        self.assertTrue(m, out)
        admin_password = m.group(1)
        self.assertGreaterEqual(len(admin_password), 20)

        self.poste("user", "add", "--data", self.data, "--email", "ed@example.com", "--name", "Ed",
                   "--role", "editor", "--password-stdin", stdin="first long passphrase 1\n")

        listing = self.poste("user", "list", "--data", self.data).stdout
        self.assertRegex(listing, r"ID\s+EMAIL\s+ROLE\s+ACTIVE\s+SITES\s+LAST LOGIN")
        self.assertRegex(listing, r"boss@example\.com\s+admin\s+yes\s+all\s+never")
        self.assertRegex(listing, r"ed@example\.com\s+editor\s+yes\s+-\s+never")

        # Clear errors: a taken email, an unknown email, a weak password, a bad role.
        p = self.poste("user", "add", "--data", self.data, "--email", "ED@example.com", "--name", "Again",
                       "--role", "editor", expect=None)
        self.assertEqual(p.returncode, 1)
        self.assertIn("email", p.stderr)
        p = self.poste("user", "add", "--data", self.data, "--email", "s@example.com", "--name", "S",
                       "--role", "editor", "--sites", "7,8", expect=1)
        self.assertIn("site_ids", p.stderr)
        p = self.poste("user", "disable", "--data", self.data, "--email", "nobody@example.com", expect=1)
        self.assertIn("nobody@example.com", p.stderr)
        p = self.poste("user", "passwd", "--data", self.data, "--email", "ed@example.com", "--password-stdin",
                       stdin="password\n", expect=1)
        self.assertIn("password:", p.stderr)
        p = self.poste("user", "add", "--data", self.data, "--email", "x@example.com", "--name", "X",
                       "--role", "owner", expect=None)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("owner", p.stdout + p.stderr)

        # The editor signs in; a new password revokes the session's refresh token.
        server = self.server()
        r = self.login(server, "ed@example.com", "first long passphrase 1")
        self.assertEqual(r.status, 200, r.body[:300])
        refresh = json.loads(r.body)["refresh_token"]
        stop_and_assert_clean_exit(self, server)

        self.poste("user", "passwd", "--data", self.data, "--email", "ed@example.com", "--password-stdin",
                   stdin="second long passphrase 2\n")
        server = self.server()
        r = server.request("POST", "/api/v1/auth/refresh", JSON, json.dumps({"refresh_token": refresh}).encode())
        self.assertEqual(r.status, 401, r.body[:300])
        self.assertEqual(self.login(server, "ed@example.com", "first long passphrase 1").status, 401)
        r = self.login(server, "ed@example.com", "second long passphrase 2")
        self.assertEqual(r.status, 200, r.body[:300])
        stop_and_assert_clean_exit(self, server)

        # Disabled: refused; enabled again: in.
        self.poste("user", "disable", "--data", self.data, "--email", "ed@example.com")
        self.assertRegex(self.poste("user", "list", "--data", self.data).stdout, r"ed@example\.com\s+editor\s+no\b")
        server = self.server()
        self.assertEqual(self.login(server, "ed@example.com", "second long passphrase 2").status, 401)
        r = self.login(server, "boss@example.com", admin_password)
        self.assertEqual(r.status, 200, r.body[:300])
        stop_and_assert_clean_exit(self, server)
        self.assertNotRegex(self.poste("user", "list", "--data", self.data).stdout, r"boss@example\.com.*never")

        self.poste("user", "enable", "--data", self.data, "--email", "ed@example.com")
        server = self.server()
        self.assertEqual(self.login(server, "ed@example.com", "second long passphrase 2").status, 200)
        stop_and_assert_clean_exit(self, server)

        # The last active admin cannot be disabled.
        p = self.poste("user", "disable", "--data", self.data, "--email", "boss@example.com", expect=1)
        self.assertIn("administrator", p.stderr)

    # --------------------------------------------------------------------------------------------- keys

    def test_keys_rotate_keeps_every_secret(self):
        self.poste("user", "add", "--data", self.data, "--email", "boss@example.com", "--name", "Boss",
                   "--role", "admin", "--password-stdin", stdin="chief long passphrase 9\n")
        server = self.server()
        r = self.login(server, "boss@example.com", "chief long passphrase 9")
        self.assertEqual(r.status, 200, r.body[:300])
        token = json.loads(r.body)["access_token"]
        r = server.request("POST", "/api/v1/sites", self.bearer(token),
                           json.dumps({"name": "Alpha", "slug": "alpha"}).encode())
        self.assertEqual(r.status, 201, r.body[:300])
        site = json.loads(r.body)["id"]
        r = server.request("PUT", "/api/v1/sites/%d/settings/smtp.password" % site, self.bearer(token),
                           json.dumps({"value": "hunter2", "secret": True}).encode())
        self.assertEqual(r.status, 200, r.body[:300])
        # A TOTP secret too: after the rotation, signing in proves the server opens it with the new key.
        r = server.request("POST", "/api/v1/auth/totp/setup", self.bearer(token), b"{}")
        self.assertEqual(r.status, 200, r.body[:300])
        secret = json.loads(r.body)["secret"]
        code, confirmed_step = totp(secret)
        r = server.request("POST", "/api/v1/auth/totp/confirm", self.bearer(token), json.dumps({"code": code}).encode())
        self.assertEqual(r.status, 200, r.body[:300])
        stop_and_assert_clean_exit(self, server)

        key_file = os.path.join(self.data, "master.key")
        with open(key_file) as f:
            old_key = f.read().strip()
        out = self.poste("keys", "rotate", "--data", self.data).stdout
        self.assertIn("1 secret setting(s) and 1 TOTP secret(s)", out)
        with open(key_file) as f:
            new_key = f.read().strip()
        self.assertNotEqual(new_key, old_key)
        self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
        backups = glob.glob(os.path.join(self.data, "master.key.old-*"))
        self.assertEqual(len(backups), 1)
        with open(backups[0]) as f:
            self.assertEqual(f.read().strip(), old_key)

        # The server starts (the check value matches the new key), the secret reads as set, TOTP still works.
        server = self.server()
        while totp(secret)[1] <= confirmed_step:  # a code is accepted once per step
            time.sleep(0.5)
        r = self.login(server, "boss@example.com", "chief long passphrase 9", totp=totp(secret)[0])
        self.assertEqual(r.status, 200, r.body[:300])
        token = json.loads(r.body)["access_token"]
        r = server.request("GET", "/api/v1/sites/%d/settings" % site, self.bearer(token))
        self.assertEqual(r.status, 200, r.body[:300])
        self.assertIn({"key": "smtp.password", "secret": True, "set": True}, json.loads(r.body)["items"])
        stop_and_assert_clean_exit(self, server)

        # The old key is refused, by the server and by a second rotation.
        env = {"POSTE_MASTER_KEY": old_key}
        p = self.poste("keys", "rotate", "--data", self.data, env=env, expect=1)
        self.assertIn("not the key this database was set up with", p.stderr)
        with open(key_file) as f:
            self.assertEqual(f.read().strip(), new_key)

        # From the environment: the new key is printed for the operator, no file is written.
        env = {"POSTE_MASTER_KEY": new_key}
        out = self.poste("keys", "rotate", "--data", self.data, env=env).stdout
        self.assertIn("POSTE_MASTER_KEY", out)
        m = re.search(r"shown once\):\s+(\S+)", out)
        self.assertTrue(m, out)
        newest = m.group(1)
        with open(key_file) as f:
            self.assertEqual(f.read().strip(), new_key)
        server = self.server(env={"POSTE_MASTER_KEY": newest})
        # A wrong code makes the server open the TOTP secret (a 500 if it could not) and then refuse the code.
        now = time.time()
        current = {totp(secret, now + d)[0] for d in (-30, 0, 30)}
        wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in current)
        r = self.login(server, "boss@example.com", "chief long passphrase 9", totp=wrong)
        self.assertEqual(r.status, 401, r.body[:300])
        self.assertEqual(json.loads(r.body)["errors"][0]["field"], "totp")
        stop_and_assert_clean_exit(self, server)


if __name__ == "__main__":
    unittest.main()
