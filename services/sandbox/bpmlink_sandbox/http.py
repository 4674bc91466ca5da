"""A compact request/response layer over raw ASGI (the hot path needs no framework)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

JSON_UTF8 = "application/json; charset=utf-8"
ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class Request:
    __slots__ = ("method", "path", "query_string", "headers", "body", "scheme", "_cookies", "_query")

    def __init__(self, scope: dict[str, Any], body: bytes) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query_string: str = scope["query_string"].decode("latin-1")
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            name = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            if name in headers:
                headers[name] += ("; " if name == "cookie" else ", ") + value
            else:
                headers[name] = value
        self.headers = headers
        self.body = body
        self.scheme: str = scope.get("scheme", "http")
        self._cookies: dict[str, str] | None = None
        self._query: list[tuple[str, str]] | None = None

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.headers.get('host', 'localhost')}"

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            jar: dict[str, str] = {}
            for part in self.headers.get("cookie", "").split(";"):
                name, sep, value = part.strip().partition("=")
                if sep:
                    jar[name] = value
            self._cookies = jar
        return self._cookies

    @property
    def query(self) -> list[tuple[str, str]]:
        # ASP.NET decodes '+' as a space, as parse_qsl does.
        if self._query is None:
            self._query = parse_qsl(self.query_string, keep_blank_values=True)
        return self._query

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8-sig"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def json_response(obj: Any, status: int = 200, content_type: str = JSON_UTF8,
                  headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps(obj), content_type, headers or [])


def html_response(text: str, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, text.encode(), HTML, headers or [])


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def send_response(send: Any, resp: Response, head_only: bool = False) -> None:
    raw = [(b"content-length", str(len(resp.body)).encode())]
    if resp.content_type:
        raw.append((b"content-type", resp.content_type.encode()))
    for k, v in resp.headers:
        raw.append((k.lower().encode("latin-1"), v.encode("latin-1")))
    await send({"type": "http.response.start", "status": resp.status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head_only else resp.body})
