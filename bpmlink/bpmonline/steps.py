"""Step records: one per HTTP request, redacted before anyone can store them.

Redaction happens when the step is built, not when it is displayed, so a step object never
holds a secret: session cookies, `Authorization`, the CSRF headers, `Set-Cookie`, the login
password, the OAuth client secret and issued tokens are replaced by ``"[redacted]"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

REDACTED = "[redacted]"
DEFAULT_BODY_LIMIT = 8 * 1024

# Header names (lower-case) whose values are credentials.
_SECRET_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "proxy-authorization", "bpmcsrf", "crt_csrf", "x-csrf-token"}
)
# Keys (lower-case) redacted inside login/token bodies.
_SECRET_KEYS = frozenset({"userpassword", "password", "client_secret", "access_token", "refresh_token", "id_token"})


@dataclass
class Step:
    """One request to a system, as stored in an operation's history."""

    system: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    status: int | None = None
    duration_ms: float = 0.0
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    request_truncated: bool = False
    response_truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data


class StepRecorder:
    """Collects the steps of one logical call (pass one per event to the client)."""

    def __init__(self, system: str = "bpmonline", body_limit: int = DEFAULT_BODY_LIMIT) -> None:
        self.system = system
        self.body_limit = body_limit
        self.steps: list[Step] = []

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        *,
        started_at: datetime,
        duration_ms: float,
        error: str | None = None,
        secret_body: bool = False,
        body_note: str | None = None,
    ) -> Step:
        """Build a redacted step from a request and (if any) its answer.

        `secret_body` marks login/token exchanges: their bodies are parsed and the password,
        client secret and tokens replaced before truncation. `body_note` is shown instead of a
        binary request body (a file chunk: its size, not its bytes).
        """
        if body_note is not None:
            req_body: str | None = body_note
        else:
            req_body = _body_text(request.content, request.headers.get("content-type", ""), secret_body)
        req_text, req_cut = truncate(req_body, self.body_limit)
        resp_text: str | None = None
        resp_cut = False
        status: int | None = None
        resp_headers: dict[str, str] = {}
        if response is not None:
            status = response.status_code
            resp_headers = redact_headers(response.headers)
            try:
                content = response.content
            except httpx.ResponseNotRead:
                content = b""
            resp_body = _body_text(content, response.headers.get("content-type", ""), secret_body)
            resp_text, resp_cut = truncate(resp_body, self.body_limit)
        return self.add(
            Step(
                system=self.system,
                method=request.method,
                url=str(request.url),
                request_headers=redact_headers(request.headers),
                request_body=req_text,
                response_headers=resp_headers,
                response_body=resp_text,
                status=status,
                duration_ms=round(duration_ms, 2),
                error=error,
                started_at=started_at,
                request_truncated=req_cut,
                response_truncated=resp_cut,
            )
        )


def redact_headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        key = name.lower()
        shown = REDACTED if key in _SECRET_HEADERS else value
        # A header sent twice (Set-Cookie) is kept once: its values are redacted anyway.
        out[key] = shown if key not in out or shown == REDACTED else f"{out[key]}, {shown}"
    return out


def truncate(text: str | None, limit: int) -> tuple[str | None, bool]:
    """Cut `text` to `limit` UTF-8 bytes, marking the cut."""
    if text is None:
        return None, False
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text, False
    kept = raw[:limit].decode("utf-8", errors="ignore")
    return f"{kept}…[truncated {len(raw) - limit} bytes]", True


def _redact_obj(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: (REDACTED if str(k).lower() in _SECRET_KEYS else _redact_obj(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_redact_obj(v) for v in obj]
    return obj


def _body_text(content: bytes, content_type: str, secret: bool) -> str | None:
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    if not secret:
        return text
    ctype = content_type.lower()
    if "json" in ctype or text.lstrip().startswith(("{", "[")):
        try:
            return json.dumps(_redact_obj(json.loads(text)), ensure_ascii=False)
        except ValueError:
            return REDACTED
    if "x-www-form-urlencoded" in ctype:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, REDACTED if k.lower() in _SECRET_KEYS else v) for k, v in pairs])
    # An auth body we cannot parse is dropped rather than risk showing a secret.
    return REDACTED
