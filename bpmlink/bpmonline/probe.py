"""The connection test: log in afresh, read one record, explain any failure plainly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bpmlink.bpmonline._http import is_json, send
from bpmlink.bpmonline.dialects import ODataV3, ODataV4
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, NotFoundError

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient
    from bpmlink.bpmonline.steps import StepRecorder


@dataclass(frozen=True)
class ConnectionTestResult:
    """`BpmClient.test()`'s answer: where it stopped and why, in a user's words."""

    ok: bool
    stage: str  # "address" | "connect" | "login" | "odata" | "read" | "done"
    message: str
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "stage": self.stage, "message": self.message, "code": self.code}


# Where each error code belongs and what we tell the user.
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


def _result(ok: bool, stage: str, message: str, code: str | None = None) -> ConnectionTestResult:
    return ConnectionTestResult(ok=ok, stage=stage, message=message, code=code)


def _network_result(exc: BpmError, stage: str) -> ConnectionTestResult:
    if exc.code == "dns" or exc.code == "blocked_address":
        stage = "address"
    words = _NETWORK_WORDS.get(exc.code, "The server could not be reached.")
    return _result(False, stage, f"{words} ({exc.message})", exc.code)


async def run_test(client: BpmClient, recorder: StepRecorder) -> ConnectionTestResult:
    conn = client.connection
    # 1. A fresh login (never a cached session: the point is to check the credentials). The
    # address problems (DNS, blocked, TLS, refused) surface here too, with their own codes.
    try:
        await client.session.renew(None, recorder, force=True)
    except AuthError as exc:
        words = _LOGIN_WORDS.get(exc.code, "Login failed")
        return _result(False, "login", f"{words}: {exc.message}", exc.code)
    except ConfigurationError as exc:
        if exc.code in _NETWORK_WORDS:
            return _network_result(exc, "connect")
        return _result(False, "login", exc.message, exc.code)
    except BpmError as exc:
        if exc.status is None:
            return _network_result(exc, "connect")
        return _result(False, "login", f"The login service failed: {exc.message}", exc.code)

    # 2. OData: read one record.
    try:
        rows = await client.query("Contact", select=["Id"], top=1, recorder=recorder)
    except NotFoundError as exc:
        return await _no_odata(client, recorder, exc)
    except AuthError as exc:
        return _result(
            False,
            "odata",
            "Logged in, but the OData service sends us back to the login page: the user may have no "
            f"API access ({exc.message})",
            exc.code,
        )
    except BpmError as exc:
        if exc.status is None:
            return _network_result(exc, "odata")
        if exc.status == 403:
            return _result(
                False, "read", f"Logged in, but the user may not read Contact records: {exc.message}", exc.code
            )
        return _result(False, "read", f"Logged in, but reading a record failed: {exc.message}", exc.code)
    who = conn.username if conn.auth == "forms" else f"OAuth client {conn.client_id}"
    return _result(
        True,
        "done",
        f"Connected as {who}: OData {client.dialect.version} works ({len(rows)} Contact record read).",
    )


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
                "This bpm'online only offers OData 3 (version 7.x before 7.15). Set «OData version» to 3.",
                "odata3_only",
            )
    else:
        v4_root = ODataV4().service_root(conn.domain, conn.path_prefix) + "/"
        if await _answers(client, v4_root, "application/json", recorder):
            return _result(False, "odata", "This Creatio offers OData 4. Set «OData version» to 4.", "odata4_available")
    alt_root = client.dialect.service_root(conn.domain, other_prefix) + "/"
    if await _answers(client, alt_root, client.dialect.headers(write=False)["Accept"], recorder):
        hint = "empty (a .NET Core/.NET 8 host)" if not other_prefix else "/0 (a .NET Framework host)"
        message = f"OData answers under another path: set «Path prefix» to {hint}."
        return _result(False, "odata", message, "wrong_prefix")
    return _result(
        False,
        "odata",
        f"Logged in, but there is no OData service at {client.service_root} (404). The user may lack "
        f"OData access, or the site is not Creatio. ({exc.message})",
        "no_odata",
    )
