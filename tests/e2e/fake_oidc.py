"""A small but honest OpenID Connect provider on loopback, for the single sign-on tests.

It speaks the parts of the protocol a real provider does and that Streamlit's st.login
(Authlib) relies on: discovery, the authorization-code flow with state, nonce and PKCE
(S256), client authentication at the token endpoint, and an RS256-signed ID token whose
key is published as a JWK set. It checks what a provider checks (client, redirect
address, code used once, the PKCE verifier) so a test passes only if Bondline's
configuration drives the real flow. The person "at the provider" is whoever the test
puts in `person`; its sign-in page has one button, as a provider's consent page does.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_ID = "bondline-test-key"


@dataclass
class Person:
    subject: str
    email: str
    name: str
    email_verified: bool = True
    # Seconds to move the ID token's issue time back: an identity cookie from earlier.
    issued_seconds_ago: int = 0


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str | None
    person: Person


@dataclass
class FakeProvider:
    client_id: str = "bondline"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uri: str = ""
    person: Person | None = None
    tokens_issued: list[str] = field(default_factory=list)  # the subjects, in order
    refusals: list[str] = field(default_factory=list)
    # Sign ID tokens with a key the JWK set does not hold (under the published key id):
    # what a forged token looks like to the client.
    forge_signature: bool = False

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._grants: dict[str, _Grant] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def secrets_toml(self) -> str:
        """The app's `[auth]` and `[auth.clinic]` for this provider, as the README shows
        them (a fresh cookie secret each time)."""
        return (
            "[auth]\n"
            f'redirect_uri = "{self.redirect_uri}"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            "[auth.clinic]\n"
            'label = "Clinic account"\n'
            f'client_id = "{self.client_id}"\n'
            f'client_secret = "{self.client_secret}"\n'
            f'server_metadata_url = "{self.metadata_url}"\n'
        )

    def _metadata(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    def _jwks(self) -> dict[str, object]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time()) - grant.person.issued_seconds_ago
        claims = {
            "iss": self.issuer,
            "sub": grant.person.subject,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 3600 + grant.person.issued_seconds_ago,
            "nonce": grant.nonce,
            "email": grant.person.email,
            "email_verified": grant.person.email_verified,
            "name": grant.person.name,
        }
        key = self._key
        if self.forge_signature:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})

    # --- the endpoints -------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """The sign-in page (GET), or the redirect back with a code (the button's GET)."""
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != (
            self.redirect_uri
        ):
            return self._refuse("authorize: unknown client or redirect address")
        if query.get("response_type") != "code" or "openid" not in query.get("scope", ""):
            return self._refuse("authorize: not an OIDC code request")
        if not query.get("state") or not query.get("nonce"):
            return self._refuse("authorize: no state or nonce")
        if self.person is None:
            return self._refuse("authorize: nobody is signed in at the provider")
        if query.get("confirm") != "yes":
            again = urlencode({**query, "confirm": "yes"})
            page = (
                "<!doctype html><title>Clinic sign-in</title><h1>Clinic sign-in</h1>"
                f"<p>Signed in as {html.escape(self.person.email)}</p>"
                f'<a id="continue" href="/authorize?{html.escape(again)}">Continue</a>'
            )
            return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()
        challenge = query.get("code_challenge")
        if challenge and query.get("code_challenge_method") != "S256":
            return self._refuse("authorize: PKCE method is not S256")
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            query["client_id"], query["redirect_uri"], query["nonce"], challenge, self.person
        )
        back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": back}, b""

    def _token(self, form: dict[str, str], authorization: str) -> tuple[int, dict, bytes]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return self._refuse("token: client authentication failed", 401)
        grant = self._grants.pop(form.get("code", ""), None)  # a code is good once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._refuse("token: unknown or used code")
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._refuse("token: redirect address differs")
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                return self._refuse("token: PKCE verifier does not match")
        self.tokens_issued.append(grant.person.subject)
        body = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self._id_token(grant),
        }
        return (
            200,
            {"Content-Type": "application/json", "Cache-Control": "no-store"},
            (json.dumps(body).encode()),
        )

    def _refuse(self, why: str, status: int = 400) -> tuple[int, dict[str, str], bytes]:
        self.refusals.append(why)
        body = json.dumps({"error": "invalid_request", "error_description": why}).encode()
        return status, {"Content-Type": "application/json"}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:  # quiet test output
                pass

            def _send(self, answer: tuple[int, dict[str, str], bytes]) -> None:
                status, headers, body = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._send(
                        (200, {"Content-Type": "application/json"}, _json(provider._metadata()))
                    )
                elif url.path == "/jwks":
                    self._send((200, {"Content-Type": "application/json"}, _json(provider._jwks())))
                elif url.path == "/authorize":
                    self._send(provider._authorize(query))
                else:
                    self._send((404, {}, b""))

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path == "/token":
                    self._send(provider._token(form, self.headers.get("Authorization", "")))
                else:
                    self._send((404, {}, b""))

        return Handler


def _json(value: object) -> bytes:
    return json.dumps(value).encode()
