"""The `poste` command line: help, version, migrate, configuration errors, first start on an empty folder."""

import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import PosteServer, run_poste, stop_and_assert_clean_exit


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="poste-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_ok(self, *args, **kw):
        p = run_poste(args, cwd=self.tmp, **kw)
        self.assertEqual(p.returncode, 0, "poste %s exited %d\nstdout:\n%s\nstderr:\n%s"
                         % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    # --------------------------------------------------------------------------------------------- help

    def test_help_lists_the_commands(self):
        out = self.run_ok("--help").stdout
        for cmd in ("serve", "migrate", "version"):
            self.assertRegex(out, r"\b%s\b" % cmd)

    def test_serve_help_lists_its_options(self):
        out = self.run_ok("serve", "--help").stdout
        for opt in ("--listen", "--data", "--config"):
            self.assertIn(opt, out)

    def test_migrate_help(self):
        out = self.run_ok("migrate", "--help").stdout
        self.assertIn("--data", out)
        self.assertIn("migrat", out.lower())

    def test_version(self):
        out = self.run_ok("version").stdout
        self.assertRegex(out, r"^poste \d+\.\d+\.\d+")

    def test_no_command_is_an_error(self):
        p = run_poste([], cwd=self.tmp)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue((p.stdout + p.stderr).strip(), "no explanation printed")

    def test_unknown_command_is_an_error(self):
        p = run_poste(["frobnicate"], cwd=self.tmp)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("frobnicate", p.stdout + p.stderr)

    # --------------------------------------------------------------------------------------------- migrate

    def test_migrate_creates_the_database_and_is_idempotent(self):
        data = os.path.join(self.tmp, "fresh", "data")
        self.run_ok("migrate", "--data", data)
        db = os.path.join(data, "poste.db")
        self.assertTrue(os.path.isfile(db), "poste migrate did not create %s" % db)
        with open(db, "rb") as f:
            self.assertEqual(f.read(16), b"SQLite format 3\x00")
        conn = sqlite3.connect(db)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            conn.close()
        self.assertTrue(tables, "the migrated database has no tables")
        again = self.run_ok("migrate", "--data", data)
        self.assertIn("up to date", again.stdout.lower())

    # --------------------------------------------------------------------------------------------- config errors

    def serve_must_fail(self, args, env=None):
        try:
            p = run_poste(["serve"] + args, env=env, cwd=self.tmp, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("poste serve %s did not exit on a configuration error (it kept running)" % args)
        self.assertNotEqual(p.returncode, 0, "poste serve accepted a bad configuration:\n%s%s" % (p.stdout, p.stderr))
        return p.stdout + p.stderr

    def test_invalid_listen_from_env_names_the_key(self):
        out = self.serve_must_fail(["--data", os.path.join(self.tmp, "data")], env={"POSTE_SERVER__LISTEN": "nonsense"})
        self.assertIn("server.listen", out)

    def test_config_file_with_an_unknown_key_names_it(self):
        conf = os.path.join(self.tmp, "poste.toml")
        with open(conf, "w") as f:
            f.write('[server]\nlisten = "127.0.0.1:0"\nlisten_typo = "x"\n')
        out = self.serve_must_fail(["--config", conf, "--data", os.path.join(self.tmp, "data")])
        self.assertIn("server.listen_typo", out)

    def test_config_file_with_a_wrong_type_names_the_key(self):
        conf = os.path.join(self.tmp, "poste.toml")
        with open(conf, "w") as f:
            f.write('[server]\nheader_timeout_ms = "soon"\n')
        out = self.serve_must_fail(["--config", conf, "--data", os.path.join(self.tmp, "data")])
        self.assertIn("server.header_timeout_ms", out)

    def test_missing_config_file_is_an_error(self):
        out = self.serve_must_fail(["--config", os.path.join(self.tmp, "nope.toml")])
        self.assertIn("nope.toml", out)

    # --------------------------------------------------------------------------------------------- first start

    def test_serve_on_an_empty_data_dir_creates_the_database(self):
        data = os.path.join(self.tmp, "empty")
        os.mkdir(data)
        server = PosteServer(data_dir=data)
        self.addCleanup(server.cleanup)
        server.start()
        self.assertTrue(os.path.isfile(os.path.join(data, "poste.db")), os.listdir(data))
        self.assertEqual(server.request("GET", "/readyz").status, 200)
        stop_and_assert_clean_exit(self, server)

    def test_serve_with_no_config_at_all_creates_data_in_the_working_dir(self):
        # No --data, no --config: ./data/poste.db under the working directory (the harness runs in its own tmp).
        server = PosteServer()
        server.data_dir = None
        self.addCleanup(server.cleanup)
        server.start()
        self.assertTrue(os.path.isfile(os.path.join(server.tmp, "data", "poste.db")))
        stop_and_assert_clean_exit(self, server)


if __name__ == "__main__":
    unittest.main()
