"""Downloading the file an event links to, for the `attach_file` step.

The URL comes from the event, so it is hostile until proven otherwise: only http(s), every
connection (each redirect hop too, at most `MAX_REDIRECTS`) through the outbound guard, the
size limit enforced while reading (a Content-Length over it is refused before the body is
read; a body without one, or longer than it says, is cut at limit + 1 bytes), and one time
limit for the whole download. The name comes from Content-Disposition (RFC 6266, `filename*`
first), else the URL's last path segment, and is made safe to show and store.
"""

from __future__ import annotations

import asyncio
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from bpmlink.bpmonline._http import classify_exception
from bpmlink.kit.messages import Message, message
from bpmlink.kit.net import BlockedAddressError, GuardedTransport
from bpmlink.kit.settings import Settings

MAX_REDIRECTS = 5
MAX_NAME_BYTES = 255
DEFAULT_NAME = "file"
_OCTET = "application/octet-stream"
# `; name = value` with the value a token or a quoted string (RFC 6266 §4.1).
_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


@dataclass(frozen=True)
class Downloaded:
    name: str
    mime: str
    data: bytes = field(repr=False)


class DownloadError(Exception):
    """A download that failed: `code` + `params` for the reader, `text` in English, and whether
    trying again later may succeed (`transient`: timeouts, 5xx, 408/429, connection failures)."""

    def __init__(self, code: str, text: str, *, transient: bool = False, **params: Any) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.params = params
        self.transient = transient

    def message(self) -> Message:
        return message(self.code, self.text, **self.params)


async def download(url: str, *, max_bytes: int, settings: Settings, timeout: float = 30.0) -> Downloaded:
    """The file at `url` (its name, type and bytes), or `DownloadError`."""
    target = _parse(url)
    async with httpx.AsyncClient(
        transport=GuardedTransport(settings),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        headers={"User-Agent": "bpmlink", "Accept": "*/*"},
    ) as client:
        try:
            async with asyncio.timeout(timeout):
                async with client.stream("GET", target) as response:
                    _check_status(response)
                    data = await _read(response, max_bytes)
        except TimeoutError as exc:
            raise _timeout(timeout) from exc
        except (httpx.HTTPError, BlockedAddressError) as exc:
            raise _failure(exc, timeout) from exc
    name = clean_name(name_from_disposition(response.headers.get("content-disposition", "")) or "")
    name = name or clean_name(response.url.path.rsplit("/", 1)[-1]) or DEFAULT_NAME
    return Downloaded(name=name, mime=_mime(response.headers.get("content-type", ""), name), data=data)


def _parse(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise DownloadError("file_bad_url", "the file's address is not a valid URL") from exc
    if target.scheme not in ("http", "https") or not target.host:
        scheme = target.scheme or "none"
        raise DownloadError(
            "file_bad_url", f"the file's address must be an http or https URL, not {scheme!r}", scheme=scheme
        )
    return target


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    transient = status >= 500 or status in (408, 429)
    raise DownloadError(
        "file_http_status", f"the file's site answered HTTP {status}", transient=transient, status=status
    )


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decoded: a small gzip that unpacks huge is cut too
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> DownloadError:
    mb = round(max_bytes / (1024 * 1024), 1)
    return DownloadError(
        "file_too_large", f"the file is larger than the limit of {mb:g} MB", max_bytes=max_bytes, max_mb=mb
    )


def _timeout(seconds: float) -> DownloadError:
    return DownloadError(
        "file_timeout", f"the file did not download within {seconds:g} s", transient=True, seconds=seconds
    )


def _failure(exc: Exception, timeout: float) -> DownloadError:
    if isinstance(exc, httpx.TooManyRedirects):
        return DownloadError(
            "file_too_many_redirects",
            f"the file's address redirects more than {MAX_REDIRECTS} times",
            max_redirects=MAX_REDIRECTS,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return DownloadError("file_bad_url", f"the file's address redirects to an unsupported URL: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return _timeout(timeout)
    if isinstance(exc, BlockedAddressError):
        if not exc.host:  # the transport refused the scheme of a redirect
            return DownloadError("file_bad_url", f"the file's address redirects to a refused URL: {exc}")
        return DownloadError(
            "file_blocked_address",
            f"the file's address leads to a private or internal address ({exc.host}), which is not allowed",
            host=exc.host,
        )
    classified = classify_exception(exc)
    if classified.code == "tls":
        return DownloadError("file_tls", f"the file's site has a TLS/certificate problem: {exc}")
    text = f"the file's site could not be reached: {classified.message}"
    return DownloadError("file_unreachable", text, transient=True)


def name_from_disposition(value: str) -> str | None:
    """The file name of a Content-Disposition header: `filename*` (RFC 5987, e.g. UTF-8''%D1%81…)
    before `filename`, as RFC 6266 says; None when it names none."""
    params: dict[str, str] = {}
    for m in _PARAM.finditer(value):
        raw = m.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params.setdefault(m.group(1).lower(), raw)
    extended = params.get("filename*")
    if extended:
        charset, sep, rest = extended.partition("'")
        _lang, sep2, encoded = rest.partition("'")
        if sep and sep2:
            try:
                return unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                pass
    return params.get("filename") or None


def clean_name(raw: str) -> str:
    """A name safe to store and show: no folders, no control or format characters (a right-to-left
    override would disguise `exe.pdf`), at most 255 UTF-8 bytes with the extension kept; "" if nothing is left."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    if name in ("", ".", ".."):
        return ""
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    keep = f".{ext}" if dot and stem and len(ext.encode()) <= 16 else ""
    base = name[: len(name) - len(keep)]
    return base.encode()[: MAX_NAME_BYTES - len(keep.encode())].decode("utf-8", "ignore") + keep


def _mime(content_type: str, name: str) -> str:
    declared = content_type.split(";", 1)[0].strip().lower()
    if declared and declared != _OCTET and "/" in declared:
        return declared
    return mimetypes.guess_type(name, strict=False)[0] or declared or _OCTET
