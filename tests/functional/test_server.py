"""The HTTP contract of the real `poste serve`: health, metrics, request ids, errors, methods, security headers,
compression, keep-alive and pipelining."""

import gzip
import json
import re
import unittest

from harness import ServerTestCase, format_request, metric_samples, metric_value

WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ServerContract(ServerTestCase):
    # --------------------------------------------------------------------------------------------- health

    def test_healthz_is_200(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r.body)

    def test_readyz_is_200(self):
        r = self.server.request("GET", "/readyz")
        self.assertEqual(r.status, 200, r.body)

    # --------------------------------------------------------------------------------------------- metrics

    def test_metrics_is_prometheus_text_with_the_core_families(self):
        self.server.request("GET", "/healthz")
        r = self.server.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("text/plain"), "Content-Type is %r" % ctype)
        text = r.text()
        samples = metric_samples(text)  # every sample line must parse
        names = {name for name, _, _ in samples}
        self.assertIn("# TYPE poste_http_requests_total counter", text)
        self.assertIn("# TYPE poste_http_request_duration_seconds histogram", text)
        self.assertIn("poste_http_requests_total", names)
        for suffix in ("_bucket", "_sum", "_count"):
            self.assertIn("poste_http_request_duration_seconds" + suffix, names)
        self.assertIn("poste_build_info", names)
        self.assertEqual(metric_value(text, "poste_build_info"), 1.0)
        # The /healthz request made above has been counted.
        self.assertGreaterEqual(metric_value(text, "poste_http_requests_total") or 0, 1)
        self.assertTrue(any('le="+Inf"' in labels for n, labels, _ in samples
                            if n == "poste_http_request_duration_seconds_bucket"))

    def test_requests_are_counted(self):
        before = metric_value(self.server.metrics(), "poste_http_requests_total") or 0
        for _ in range(3):
            self.assertEqual(self.server.request("GET", "/healthz").status, 200)
        after = metric_value(self.server.metrics(), "poste_http_requests_total") or 0
        # 3 /healthz plus the first scrape at least.
        self.assertGreaterEqual(after - before, 4)

    # --------------------------------------------------------------------------------------------- request ids

    def test_every_response_has_a_request_id(self):
        cases = [("GET", "/healthz"), ("GET", "/no/such/route"), ("POST", "/healthz"), ("OPTIONS", "/healthz"),
                 ("HEAD", "/healthz"), ("GET", "/metrics")]
        seen = set()
        for method, path in cases:
            with self.server.connect() as c:
                r = c.request(method, path)
            rid = r.header("X-Request-Id")
            self.assertIsNotNone(rid, "%s %s answered %d without X-Request-Id" % (method, path, r.status))
            self.assertRegex(rid, WELL_FORMED_ID)
            seen.add(rid)
        self.assertEqual(len(seen), len(cases), "generated request ids repeat: %s" % seen)

    def test_well_formed_client_request_id_is_echoed(self):
        r = self.server.request("GET", "/healthz", {"X-Request-Id": "abc-123"})
        self.assertEqual(r.header("X-Request-Id"), "abc-123")

    def test_malformed_client_request_id_is_replaced(self):
        for bad in ("abc 123 with spaces", "a" * 300, "semi;colon<script>"):
            r = self.server.request("GET", "/healthz", {"X-Request-Id": bad})
            rid = r.header("X-Request-Id")
            self.assertIsNotNone(rid)
            self.assertNotEqual(rid, bad)
            self.assertRegex(rid, WELL_FORMED_ID)

    # --------------------------------------------------------------------------------------------- errors

    def test_unknown_route_is_404_problem_json(self):
        r = self.server.request("GET", "/api/v1/no-such-thing")
        doc = self.assertProblem(r, 404)
        self.assertIsInstance(doc["title"], str)
        self.assertTrue(doc["title"])

    def test_wrong_method_is_405_with_allow(self):
        r = self.server.request("DELETE", "/healthz")
        self.assertEqual(r.status, 405)
        allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
        self.assertIn("GET", allow, "Allow is %r" % r.header("Allow"))
        self.assertNotIn("DELETE", allow)
        self.assertProblem(r, 405)

    # --------------------------------------------------------------------------------------------- methods

    def test_head_on_a_get_route_is_200_without_body(self):
        with self.server.connect() as c:
            get = c.request("GET", "/healthz")
            head = c.request("HEAD", "/healthz")
            self.assertEqual(head.status, 200)
            # No body bytes may follow a HEAD response: the next response on the connection must parse cleanly.
            after = c.request("GET", "/healthz", {"X-Request-Id": "after-head"})
        self.assertEqual(after.status, 200)
        self.assertEqual(after.header("X-Request-Id"), "after-head")
        self.assertEqual(after.body, get.body)
        if head.header("Content-Length") is not None:
            self.assertEqual(int(head.header("Content-Length")), len(get.body))

    def test_options_is_204_with_allow(self):
        with self.server.connect() as c:
            r = c.request("OPTIONS", "/healthz")
            self.assertEqual(r.status, 204)
            allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
            self.assertIn("GET", allow, "Allow is %r" % r.header("Allow"))
            # A 204 has no body: the connection must still be usable.
            self.assertEqual(c.request("GET", "/healthz").status, 200)

    # --------------------------------------------------------------------------------------------- headers

    def test_security_headers_on_api_responses(self):
        for path, status in (("/api/v1/openapi.json", 200), ("/api/v1/no-such-thing", 404)):
            r = self.server.request("GET", path)
            self.assertEqual(r.status, status)
            self.assertEqual((r.header("X-Content-Type-Options") or "").lower(), "nosniff", path)
            self.assertTrue(r.header("Referrer-Policy"), "%s lacks Referrer-Policy" % path)
            csp = r.header("Content-Security-Policy") or ""
            self.assertIn("frame-ancestors", csp, "%s: Content-Security-Policy is %r" % (path, csp))

    def test_security_headers_on_non_api_responses(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual((r.header("X-Content-Type-Options") or "").lower(), "nosniff")
        self.assertTrue(r.header("Referrer-Policy"))

    # --------------------------------------------------------------------------------------------- gzip

    def test_gzip_when_accepted_on_a_large_body(self):
        plain = self.server.request("GET", "/api/v1/openapi.json")
        self.assertEqual(plain.status, 200)
        self.assertIsNone(plain.header("Content-Encoding"), "gzip without Accept-Encoding")
        self.assertGreater(len(plain.body), 1024, "openapi.json should be over 1 KiB")
        json.loads(plain.body)

        r = self.server.request("GET", "/api/v1/openapi.json", {"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(r.status, 200)
        self.assertEqual((r.header("Content-Encoding") or "").lower(), "gzip")
        self.assertIn("accept-encoding", (r.header("Vary") or "").lower())
        self.assertLess(len(r.body), len(plain.body))
        self.assertEqual(gzip.decompress(r.body), plain.body)

    def test_gzip_on_metrics(self):
        r = self.server.request("GET", "/metrics", {"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200)
        self.assertEqual((r.header("Content-Encoding") or "").lower(), "gzip")
        self.assertIn("poste_http_requests_total", gzip.decompress(r.body).decode())

    def test_no_gzip_for_small_bodies_or_when_refused(self):
        small = self.server.request("GET", "/healthz", {"Accept-Encoding": "gzip"})
        self.assertIsNone(small.header("Content-Encoding"), "a tiny body was gzipped")
        refused = self.server.request("GET", "/api/v1/openapi.json", {"Accept-Encoding": "gzip;q=0, identity"})
        self.assertIsNone(refused.header("Content-Encoding"))

    # --------------------------------------------------------------------------------------------- connections

    def test_keep_alive_serves_several_requests_on_one_socket(self):
        with self.server.connect() as c:
            for i in range(5):
                r = c.request("GET", "/healthz", {"X-Request-Id": "ka-%d" % i})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("X-Request-Id"), "ka-%d" % i)
                self.assertNotEqual((r.header("Connection") or "").lower(), "close")

    def test_pipelining_answers_in_order(self):
        batch = (format_request("GET", "/healthz", {"X-Request-Id": "pipe-1"})
                 + format_request("GET", "/no/such/route", {"X-Request-Id": "pipe-2"})
                 + format_request("GET", "/readyz", {"X-Request-Id": "pipe-3"}))
        with self.server.connect() as c:
            c.send(batch)  # one write
            responses = [c.read_response() for _ in range(3)]
        self.assertEqual([r.header("X-Request-Id") for r in responses], ["pipe-1", "pipe-2", "pipe-3"])
        self.assertEqual([r.status for r in responses], [200, 404, 200])

    def test_connection_close_is_honoured(self):
        with self.server.connect() as c:
            r = c.request("GET", "/healthz", {"Connection": "close"})
            self.assertEqual(r.status, 200)
            self.assertEqual(c.read_until_close(timeout=5), b"")


if __name__ == "__main__":
    unittest.main()
