"""The connection test: log in afresh, read one record, explain any failure plainly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bpmlink.bpmonline._http import is_json, send
from bpmlink.bpmonline.dialects import ODataV3, ODataV4
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, NotFoundError
from bpmlink.kit.messages import DEFAULT_LANGUAGE, Message, flat, message

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient
    from bpmlink.bpmonline.steps import StepRecorder


@dataclass(frozen=True)
class ConnectionTestResult:
    """`BpmClient.test()`'s answer: where it stopped (`stage`), the failure's `code`, and the words for
    people as a Message (`words`: its code and params, English `text`; bpm'online's own answer as
    `remote`), rendered in the reader's language by whoever shows it."""

    ok: bool
    stage: str  # "address" | "connect" | "login" | "odata" | "read" | "done"
    words: Message
    code: str | None = None

    @property
    def message(self) -> str:
        return self.words.text

    def to_dict(self, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The API's shape: `message` in `language`, `message_code`/`params`/`text`/`remote` beside it."""
        return {"ok": self.ok, "stage": self.stage, "code": self.code, **flat(self.words, language)}


# Where each error code belongs and what we tell the user (the words: connections.json `conn_<code>`).
_NETWORK_WORDS = {
    "dns": "The domain name could not be found. Check the «Domain» field for typos.",
    "connection_refused": "The server refused the connection. Check the domain and the port.",
    "tls": "The secure connection failed (TLS certificate). Check that the address is right and "
    "that the site has a valid certificate.",
    "connect_timeout": "The server did not answer in time. Check the domain, or try again later.",
    "read_timeout": "The server accepted the connection but did not answer in time. Try again later.",
    "blocked_address": "This address is internal (private, loopback or link-local) and is not allowed.",
}
_LOGIN_WORDS = {
    "wrong_credentials": "Wrong user name or password",
    "user_locked": "The user is locked after too many failed logins",
    "password_expired": "The user's password has expired; change it in Creatio first",
    "invalid_client": "OAuth client id or client secret is wrong",
    "no_session_cookie": "The login answered but started no session",
}


def _result(ok: bool, stage: str, words: Message, code: str | None = None) -> ConnectionTestResult:
    return ConnectionTestResult(ok=ok, stage=stage, words=words, code=code)


def _network_result(exc: BpmError, stage: str) -> ConnectionTestResult:
    if exc.code == "dns" or exc.code == "blocked_address":
        stage = "address"
    known = exc.code in _NETWORK_WORDS
    words = _NETWORK_WORDS.get(exc.code, "The server could not be reached.")
    code = f"conn_{exc.code}" if known else "conn_unreachable"
    return _result(False, stage, message(code, f"{words} ({exc.message})", remote=exc.message), exc.code)


async def run_test(client: BpmClient, recorder: StepRecorder) -> ConnectionTestResult:
    conn = client.connection
    # 1. A fresh login (never a cached session: the point is to check the credentials). The
    # address problems (DNS, blocked, TLS, refused) surface here too, with their own codes.
    try:
        await client.session.renew(None, recorder, force=True)
    except AuthError as exc:
        known = exc.code in _LOGIN_WORDS
        words = _LOGIN_WORDS.get(exc.code, "Login failed")
        code = f"login_{exc.code}" if known else "login_failed"
        return _result(False, "login", message(code, f"{words}: {exc.message}", remote=exc.message), exc.code)
    except ConfigurationError as exc:
        if exc.code in _NETWORK_WORDS:
            return _network_result(exc, "connect")
        return _result(False, "login", message("login_misconfigured", exc.message, remote=exc.message), exc.code)
    except BpmError as exc:
        if exc.status is None:
            return _network_result(exc, "connect")
        said = message("login_service_failed", f"The login service failed: {exc.message}", remote=exc.message)
        return _result(False, "login", said, exc.code)

    # 2. OData: read one record.
    try:
        rows = await client.query("Contact", select=["Id"], top=1, recorder=recorder)
    except NotFoundError as exc:
        return await _no_odata(client, recorder, exc)
    except AuthError as exc:
        return _result(
            False,
            "odata",
            message(
                "odata_back_to_login",
                "Logged in, but the OData service sends us back to the login page: the user may have no "
                f"API access ({exc.message})",
                remote=exc.message,
            ),
            exc.code,
        )
    except BpmError as exc:
        if exc.status is None:
            return _network_result(exc, "odata")
        if exc.status == 403:
            text = f"Logged in, but the user may not read Contact records: {exc.message}"
            return _result(False, "read", message("read_forbidden", text, remote=exc.message), exc.code)
        text = f"Logged in, but reading a record failed: {exc.message}"
        return _result(False, "read", message("read_failed", text, remote=exc.message), exc.code)
    who = conn.username if conn.auth == "forms" else f"OAuth client {conn.client_id}"
    text = f"Connected as {who}: OData {client.dialect.version} works ({len(rows)} Contact record read)."
    code = "connected_as_user" if conn.auth == "forms" else "connected_as_oauth_client"
    who_param = conn.username if conn.auth == "forms" else conn.client_id
    return _result(True, "done", message(code, text, who=who_param, version=client.dialect.version, count=len(rows)))


async def _answers(client: BpmClient, url: str, accept: str, recorder: StepRecorder) -> bool:
    """Does `url` answer 200 with JSON (a service document) using the current session?"""
    headers = {"Accept": accept, **client.session.auth_headers()}
    try:
        response = await send(client._http, client._http.build_request("GET", url, headers=headers), recorder)
    except (BpmError, httpx.HTTPError):
        return False
    return response.status_code == 200 and is_json(response)


async def _no_odata(client: BpmClient, recorder: StepRecorder, exc: NotFoundError) -> ConnectionTestResult:
    """404 on the OData root: find out which protocol/prefix does answer, to say what to change."""
    conn = client.connection
    other_prefix = "" if conn.path_prefix else "/0"
    if client.dialect.version == 4:
        v3_root = ODataV3().service_root(conn.domain, conn.path_prefix) + "/"
        if await _answers(client, v3_root, "application/json;odata=verbose", recorder):
            return _result(
                False,
                "odata",
                message(
                    "odata3_only",
                    "This bpm'online only offers OData 3 (version 7.x before 7.15). Set «OData version» to 3.",
                ),
                "odata3_only",
            )
    else:
        v4_root = ODataV4().service_root(conn.domain, conn.path_prefix) + "/"
        if await _answers(client, v4_root, "application/json", recorder):
            words = message("odata4_available", "This Creatio offers OData 4. Set «OData version» to 4.")
            return _result(False, "odata", words, "odata4_available")
    alt_root = client.dialect.service_root(conn.domain, other_prefix) + "/"
    if await _answers(client, alt_root, client.dialect.headers(write=False)["Accept"], recorder):
        hint = "empty (a .NET Core/.NET 8 host)" if not other_prefix else "/0 (a .NET Framework host)"
        code = "wrong_prefix_none" if not other_prefix else "wrong_prefix_zero"
        words = message(code, f"OData answers under another path: set «Path prefix» to {hint}.")
        return _result(False, "odata", words, "wrong_prefix")
    return _result(
        False,
        "odata",
        message(
            "no_odata",
            f"Logged in, but there is no OData service at {client.service_root} (404). The user may lack "
            f"OData access, or the site is not Creatio. ({exc.message})",
            root=client.service_root,
            remote=exc.message,
        ),
        "no_odata",
    )
