"""Forms login (AuthService.svc), CSRF, sliding sessions and OAuth 2.0 client credentials (§2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from .faults import Faults
from .http import JSON_UTF8, Request, Response, dumps, json_response
from .pages import WCF_AUTH_FAULT, object_moved
from .records import SUPERVISOR_CONTACT

_CSRF_ALPHABET = string.ascii_letters + string.digits + "./"
_LOADER_ALPHABET = string.ascii_lowercase + string.digits
BAD_CREDENTIALS = "Invalid username or password specified."


@dataclass
class Principal:
    """Who a data request runs as: the user's contact becomes OwnerId/CreatedById."""

    user: str
    contact_id: str


@dataclass
class Session:
    aspxauth: str
    csrf: str
    user: str
    contact_id: str
    last_seen: float


@dataclass
class User:
    name: str
    password: str
    contact_id: str


@dataclass
class Client:
    client_id: str
    secret: str
    contact_id: str
    app_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _expires(days: int = 365) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(days=days), usegmt=True)


def encode_user_name(name: str) -> str:
    """`Supervisor` → `83|117|112|101|114|118|105|115|111|114`."""
    return "|".join(str(ord(ch)) for ch in name)


class Auth:
    def __init__(self, username: str, password: str, client_id: str, client_secret: str) -> None:
        self.default_user = (username, password)
        self.default_client = (client_id, client_secret)
        self._jwt_key = secrets.token_bytes(32)
        self.reset()

    def reset(self) -> None:
        name, password = self.default_user
        self.users: dict[str, User] = {name.lower(): User(name, password, SUPERVISOR_CONTACT)}
        cid, secret = self.default_client
        self.clients: dict[str, Client] = {
            cid: Client(cid, secret, SUPERVISOR_CONTACT, str(uuid.uuid5(uuid.NAMESPACE_URL, cid)))}
        self.sessions: dict[str, Session] = {}
        self.tokens: dict[str, tuple[float, Principal]] = {}
        self.failures: dict[str, tuple[int, float]] = {}  # user → (consecutive failures, locked until)

    def expire_all(self) -> None:
        self.sessions.clear()
        self.tokens.clear()

    # --- forms login ---------------------------------------------------------
    def login(self, req: Request, faults: Faults) -> Response:
        try:
            body = req.json()
            name = str(body.get("UserName", ""))
            password = str(body.get("UserPassword", ""))
        except (ValueError, AttributeError):
            return Response(400, dumps({"Message": "The server encountered an error processing the request.",
                                        "StackTrace": None, "ExceptionType": "System.Runtime.Serialization."
                                        "SerializationException"}), JSON_UTF8)
        key = name.lower()
        now = time.monotonic()
        count, locked_until = self.failures.get(key, (0, 0.0))
        user = self.users.get(key)
        if locked_until > now:
            minutes = max(1, round(faults.lockout_seconds / 60))
            return self._failed(faults, f"The user is locked out because of too many failed login attempts. "
                                        f"Try again in {minutes} minutes.")
        if user is None or not secrets.compare_digest(user.password.encode(), password.encode()):
            count += 1
            lock = now + faults.lockout_seconds if faults.lockout_attempts and count >= faults.lockout_attempts else 0.0
            self.failures[key] = (0 if lock else count, lock)
            return self._failed(faults, BAD_CREDENTIALS)
        self.failures.pop(key, None)
        session = Session(secrets.token_hex(208).upper(), "".join(secrets.choice(_CSRF_ALPHABET) for _ in range(22)),
                          user.name, user.contact_id, now)
        self.sessions[session.aspxauth] = session
        payload: dict[str, Any] = {"Code": 0, "Message": "", "Exception": None, "PasswordChangeUrl": None,
                                   "RedirectUrl": None}
        loader = "".join(secrets.choice(_LOADER_ALPHABET) for _ in range(24))
        sid = "".join(secrets.choice(_LOADER_ALPHABET) for _ in range(24))
        cookies = [
            f".ASPXAUTH={session.aspxauth}; path=/; HttpOnly",
            f"BPMCSRF={session.csrf}; path=/",
            f"BPMLOADER={loader}; path=/; HttpOnly",
            f"UserName={encode_user_name(user.name)}; expires={_expires()}; path=/; HttpOnly",
            f"BPMSESSIONID={sid}; path=/; HttpOnly",
        ]
        if faults.newer_cookies:
            payload["UserType"] = "General"
            cookies += [
                f"CRT_CSRF={session.csrf}; Path=/; SameSite=Lax",
                f"CsrfToken={secrets.token_hex(16)}; Path=/; HttpOnly; SameSite=Lax",
                "UserType=General; Path=/; SameSite=Lax",
            ]
        return json_response(payload, headers=[("Set-Cookie", c) for c in cookies])

    def _failed(self, faults: Faults, message: str) -> Response:
        if faults.login_failure_mode == "401":
            return json_response(WCF_AUTH_FAULT, 401)
        return json_response({"Code": 1, "Message": message, "Exception": {"Message": message},
                              "PasswordChangeUrl": None, "RedirectUrl": None})

    def logout(self, req: Request) -> Response:
        self.sessions.pop(req.cookies.get(".ASPXAUTH", ""), None)
        gone = "expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/"
        return Response(200, b"", None, [("Set-Cookie", f".ASPXAUTH=; {gone}; HttpOnly"),
                                          ("Set-Cookie", f"BPMCSRF=; {gone}")])

    # --- OAuth 2.0 ------------------------------------------------------------
    def token(self, req: Request, faults: Faults) -> Response:
        ctype = req.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return json_response({"error": "invalid_request"}, 400)
        form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = req.headers.get("authorization", "")
        if basic.lower().startswith("basic "):  # client_secret_basic is standard too
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return json_response({"error": "invalid_client"}, 400)
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret.encode(), secret.encode()):
            return json_response({"error": "invalid_client"}, 400)
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        lifetime = faults.token_lifetime_seconds
        now = int(time.time())
        claims = {"iss": "creatio.com", "nbf": now, "iat": now, "exp": now + lifetime, "client_id": client_id,
                  "sub": client.contact_id, "scope": [f"ApplicationAccess_{client.app_id}"],
                  "jti": uuid.uuid4().hex}
        head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
        body = _b64(json.dumps(claims).encode())
        sig = _b64(hmac.new(self._jwt_key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        token = f"{head}.{body}.{sig}"
        self.tokens[token] = (time.monotonic() + lifetime, Principal(client_id, client.contact_id))
        return json_response({"access_token": token, "expires_in": lifetime, "token_type": "Bearer",
                              "scope": f"ApplicationAccess_{client.app_id}"},
                             headers=[("Cache-Control", "no-store, no-cache, max-age=0"), ("Pragma", "no-cache")])

    # --- request authentication ----------------------------------------------
    def authenticate(self, req: Request, faults: Faults) -> Principal | Response:
        """The caller, or the response a real instance gives an unauthenticated/CSRF-less request."""
        authz = req.headers.get("authorization")
        if authz and authz[:7].lower() == "bearer ":
            entry = self.tokens.get(authz[7:].strip())
            if entry is None or entry[0] < time.monotonic():
                if entry is not None:
                    self.tokens.pop(authz[7:].strip(), None)
                return Response(401, b"", None, [("WWW-Authenticate", 'Bearer error="invalid_token"')])
            return entry[1]
        session = self.sessions.get(req.cookies.get(".ASPXAUTH", ""))
        now = time.monotonic()
        if session is not None and now - session.last_seen > faults.session_timeout_seconds:
            del self.sessions[session.aspxauth]
            session = None
        if session is None:
            return self.unauthenticated(req, faults)
        csrf = req.headers.get("bpmcsrf") or req.headers.get("crt_csrf")
        if csrf is None or not secrets.compare_digest(csrf.encode(), session.csrf.encode()):
            return Response(403, b"", None)
        session.last_seen = now  # sliding expiry
        return Principal(session.user, session.contact_id)

    def unauthenticated(self, req: Request, faults: Faults) -> Response:
        if faults.expiry_mode == "302":
            target = req.path + (f"?{req.query_string}" if req.query_string else "")
            page = "/0/Login/NuiLogin.aspx" if faults.host_flavour == "netframework" else "/Login/Login.html"
            # ASP.NET writes the escapes in lower case: ReturnUrl=%2f0%2fodata%2fContact
            escaped = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(target, safe=""))
            return object_moved(f"{page}?ReturnUrl={escaped}")
        return json_response(WCF_AUTH_FAULT, 401)
