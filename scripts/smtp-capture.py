#!/usr/bin/python3
r"""SMTP capture server for Poste's tests: accepts every message and saves it to a folder.

Each accepted message becomes two files in --dir, written atomically (temp file, then rename):
  NNNNNNNN-<uuid>.json  the envelope: mail_from, rcpt_tos, auth_mechanism, auth_user, auth_token, peer,
                        received_at, ...
  NNNNNNNN-<uuid>.eml   the message bytes exactly as received (after SMTP dot-unstuffing)
The .json is renamed into place before the .eml, so once a .eml is visible its envelope is too.
NNNNNNNN counts up from 1 within one run, so sorting by name gives arrival order.

AUTH PLAIN and LOGIN are offered without TLS and accept any credentials (the login is recorded
as auth_user); clients that do not authenticate are accepted too. The envelope's auth_mechanism is
"PLAIN", "LOGIN", "XOAUTH2" or null (no AUTH).

AUTH XOAUTH2 (Gmail's and Outlook's SMTP, https://developers.google.com/gmail/imap/xoauth2-protocol) is
offered on every port too, and is strict about the format: the client response (initial, or after an
empty "334 " challenge) must be base64 of exactly "user=" USER "\x01auth=Bearer " TOKEN "\x01\x01" (USER
without spaces or control characters, TOKEN an RFC 6750 b64token); anything else gets a 501 saying what
is wrong, and authenticates nothing. Any well-formed token is accepted (auth_user is USER, auth_token
TOKEN), except for users whose local part starts with "expired-": the first token the server sees for
such a user is refused (a cached token that expired), the way Google refuses one: "334 " + base64 of
{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}, the client answers an empty line,
then "535 5.7.8 Username and Password not accepted". That token stays refused; any other token for the
user is accepted. Users are remembered for the server's lifetime, so tests use fresh user names.

Recipients whose local part starts with "reject-" get a permanent 550, and "tempfail-" a 451,
so tests can drive bounce and retry paths.

TLS (with --cert and --key): --starttls-port listens with STARTTLS offered (not required), --tls-port
with implicit TLS (SMTPS); --port stays plain, without STARTTLS (so that tests can check what a client
demanding STARTTLS does against a server without it). All ports save to the same folder; the envelope
records the port ("port") and whether the message came over TLS ("tls", "tls_version").

Must be run by Debian's /usr/bin/python3 (python3-aiosmtpd); a pyenv python on PATH lacks it.
"""

import argparse
import asyncio
import base64
import binascii
import itertools
import json
import os
import re
import signal
import ssl
import sys
import time
import uuid

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

# Google's answer to a bearer token it does not accept (the JSON is base64 in a 334 challenge).
XOAUTH2_REFUSAL = json.dumps({"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"},
                             separators=(",", ":"))
XOAUTH2_REFUSED = "535 5.7.8 Username and Password not accepted"
XOAUTH2_FORMAT = r"base64 of user=<user>\x01auth=Bearer <token>\x01\x01"
# RFC 6750 b64token.
BEARER_TOKEN = re.compile(rb"[A-Za-z0-9\-._~+/]+=*")


class XOAuth2Credentials:
    def __init__(self, user, token):
        self.user = user
        self.token = token


def parse_xoauth2(blob):
    """(user, token) from the decoded XOAUTH2 response, or (None, why it is malformed)."""
    if not blob.startswith(b"user="):
        return None, "the response must start with user="
    fields = blob[len(b"user="):].split(b"\x01")
    if len(fields) != 4 or fields[2] != b"" or fields[3] != b"":
        return None, "the fields are not separated and ended by \\x01 as required"
    user, auth = fields[0], fields[1]
    if not user or re.search(rb"[\x00-\x20\x7f]", user):
        return None, "the user is empty or holds spaces or control characters"
    try:
        user_text = user.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the user is not UTF-8"
    if not auth.startswith(b"auth=Bearer "):
        return None, "the second field must be auth=Bearer <token>"
    token = auth[len(b"auth=Bearer "):]
    if not BEARER_TOKEN.fullmatch(token):
        return None, "the bearer token is empty or not a b64token"
    return (user_text, token.decode("ascii")), None


class CaptureHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)
        self.expired_tokens = {}  # user ("expired-..."): the first token seen, refused

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 1:  # no initial response: ask for it with an empty challenge
            blob = await server.challenge_auth("")
            if blob is MISSING:  # challenge_auth answered already ("*" or not base64)
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1].encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                await server.push("501 5.5.2 XOAUTH2: the initial response is not base64 (expected %s)"
                                  % XOAUTH2_FORMAT)
                return AuthResult(success=False, handled=True)
        parsed, why = parse_xoauth2(blob)
        if parsed is None:
            await server.push("501 5.5.2 XOAUTH2: %s (expected %s)" % (why, XOAUTH2_FORMAT))
            return AuthResult(success=False, handled=True)
        user, token = parsed
        if user.split("@", 1)[0].lower().startswith("expired-"):
            refused = self.expired_tokens.setdefault(user, token)
            if token == refused:
                # Google's error exchange: the JSON as a challenge, an empty line back, then 535.
                if await server.challenge_auth(XOAUTH2_REFUSAL) is not MISSING:
                    await server.push(XOAUTH2_REFUSED)
                return AuthResult(success=False, handled=True)
        server.session.capture_auth_mechanism = "XOAUTH2"
        return AuthResult(success=True, auth_data=XOAuth2Credentials(user, token))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject-"):
            return "550 5.1.1 Recipient rejected by the capture server"
        if local.startswith("tempfail-"):
            return "451 4.3.0 Temporary failure requested by the capture server"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        stem = "%08d-%s" % (next(self.counter), uuid.uuid4().hex)
        tls_version = _tls_version_of(server)
        auth_user = auth_token = None
        if isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        elif isinstance(session.auth_data, XOAuth2Credentials):
            auth_user, auth_token = session.auth_data.user, session.auth_data.token
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "auth_mechanism": getattr(session, "capture_auth_mechanism", None) if session.authenticated else None,
            "auth_user": auth_user,
            "auth_token": auth_token,
            "peer": list(session.peer) if session.peer else None,
            "helo": session.host_name,
            "received_at": time.time(),
            "size": len(envelope.original_content or b""),
            "port": _port_of(server),
            "tls": tls_version is not None,
            "tls_version": tls_version,
        }
        self._write(stem + ".json", json.dumps(meta, indent=1).encode("utf-8"))
        self._write(stem + ".eml", envelope.original_content or b"")
        return "250 Message accepted for delivery"

    def _write(self, name, data):
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, name))


def _tls_version_of(server):
    """The TLS version of the session ("TLSv1.3"), None over plain TCP (STARTTLS and implicit TLS alike)."""
    transport = getattr(server, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if ssl_object is not None else None


def _port_of(server):
    transport = getattr(server, "transport", None)
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return sockname[1] if sockname else None


def accept_any(server, session, envelope, mechanism, auth_data):
    """PLAIN and LOGIN: any credentials (XOAUTH2 is CaptureHandler.auth_XOAUTH2's)."""
    session.capture_auth_mechanism = mechanism
    return AuthResult(success=True, auth_data=auth_data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="folder the messages are saved to")
    parser.add_argument("--starttls-port", type=int, help="also listen here, offering STARTTLS")
    parser.add_argument("--tls-port", type=int, help="also listen here with implicit TLS (SMTPS)")
    parser.add_argument("--cert", help="PEM certificate chain for the TLS ports")
    parser.add_argument("--key", help="PEM private key of --cert")
    args = parser.parse_args()
    if (args.starttls_port or args.tls_port) and not (args.cert and args.key):
        parser.error("--starttls-port and --tls-port need --cert and --key")

    os.makedirs(args.dir, exist_ok=True)
    handler = CaptureHandler(args.dir)
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def factory(tls_context=None):
        return lambda: SMTP(
            handler,
            hostname="capture.poste.test",
            enable_SMTPUTF8=True,
            decode_data=False,
            data_size_limit=64 * 1024 * 1024,
            auth_require_tls=False,
            authenticator=accept_any,
            tls_context=tls_context,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    listeners = [(args.port, factory(), None, "plain")]
    if args.starttls_port:
        listeners.append((args.starttls_port, factory(context), None, "STARTTLS"))
    if args.tls_port:
        listeners.append((args.tls_port, factory(), context, "implicit TLS"))
    servers = []
    for port, make, ssl_context, kind in listeners:
        servers.append(loop.run_until_complete(loop.create_server(make, host=args.host, port=port, ssl=ssl_context)))
        print("smtp-capture listening on %s:%d (%s), saving to %s" % (args.host, port, kind, args.dir), flush=True)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    try:
        loop.run_forever()
    finally:
        for server in servers:
            server.close()
            loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
