"""`sheet_url`: a CSV or XLSX file published at a URL (a Google sheet "published to the web"), polled for new rows.

    GET {url}   redirects followed (Google sends a published link on to googleusercontent.com), every
                hop through the outbound guard (`bpmlink.kit.net`); at most 20 MB and 60 seconds

The file is read as `bpmlink.imports` reads an uploaded one (BOM / UTF-8 / windows-1251, sniffed
delimiter, XLSX in read-only mode), with the trigger's format, delimiter, encoding and header row.
Each row is an item: the header's names as fields and `_row` (1 = the first data row); its source
item key is the key column's value (with `changed_rows`, the value and the row's hash, so a changed
row is a new event).

A poll stores the rows whose key it has not seen (`changed_rows`: also the rows whose values
changed), up to `PAGE_ROWS` a page, in row order. The seen rows are kept in `sheet_rows` (a sheet may
hold 100,000 rows: too many for the cursor). A page's rows are marked seen at the start of the next
fetch, from the `pending` list of the cursor committed with the page's events: a poll that dies
between the fetch and the store loses nothing, and a row is never stored twice (the events' unique
source item key stands behind it). The first poll (no cursor, or a cursor of another key column) of a
bundle whose `first_poll` is `new` marks every row already there as seen and stores none; with `all`
it stores them. A backfill pages through every row by position (`row` in its cursor) without
touching the seen rows; rows stored before are not stored again. A fetch outside a poll (the
wizard's sample, the save-time check) reads the first rows only.

A page that leaves more rows keeps its file in the process for a minute, for the next page of the
same poll or backfill (`more` in the cursor): a first poll of 100,000 rows is one download, not 100.

Rows with an empty key, and rows repeating a key met earlier in the file, are skipped and counted,
never silently: the counts are the fetch's second step (`PARSE`, stored with each new row's history)
and kept in the cursor (`last`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from bpmlink.bpmonline._http import classify_exception
from bpmlink.bpmonline.steps import Step, StepRecorder
from bpmlink.imports import ImportFileError, ReadOptions, iter_rows
from bpmlink.kit.net import BlockedAddressError, GuardedTransport
from bpmlink.kit.settings import Settings
from bpmlink.sources import sheet_rows
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    SourceConnection,
    SourceError,
    TransientSourceError,
    item_key,
)

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)
TOTAL_SECONDS = 60.0
MAX_REDIRECTS = 5
PAGE_ROWS = 1000  # a page is one download: more rows than a JSON page, fewer downloads of a big file
FORMATS = ("auto", "csv", "xlsx")
DELIMITERS = {"auto": None, ",": ",", ";": ";", "tab": "\t", "|": "|"}
ENCODINGS = {"auto": None, "utf-8": "utf-8", "windows-1251": "cp1251"}
FIRST_POLL = ("new", "all")
_ACCEPT = "text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;q=0.9, */*;q=0.5"


def _bad_config(message: str, **params: Any) -> PermanentSourceError:
    return PermanentSourceError(message, code="sheet_bad_config", params=params)


@dataclass(frozen=True)
class _Trigger:
    url: str
    file_format: str
    key_column: str
    changed_rows: bool
    first_poll: str
    options: ReadOptions

    @classmethod
    def read(cls, config: Mapping[str, Any]) -> _Trigger:
        def text(key: str, default: str = "") -> str:
            return str(config.get(key) or default).strip()

        url = text("url")
        if not url.lower().startswith(("https://", "http://")):
            raise _bad_config("the sheet's link must start with https:// (or http://)", field="url")
        key_column = text("key_column")
        if not key_column:
            raise _bad_config("name the key column: the column whose value tells rows apart", field="key_column")
        file_format, delimiter, encoding = text("format", "auto"), text("delimiter", "auto"), text("encoding", "auto")
        first_poll = text("first_poll", "new")
        for name, value, allowed in (
            ("format", file_format, FORMATS),
            ("delimiter", delimiter, tuple(DELIMITERS)),
            ("encoding", encoding, tuple(ENCODINGS)),
            ("first_poll", first_poll, FIRST_POLL),
        ):
            if value not in allowed:
                raise _bad_config(f"{name} must be one of {', '.join(allowed)}, not {value!r}", field=name)
        try:
            header_row = int(config.get("header_row") or 1)
        except (TypeError, ValueError):
            header_row = 0
        if not 1 <= header_row <= 1000:
            raise _bad_config("the header row is a row number from 1 to 1000", field="header_row")
        changed = config.get("changed_rows")
        return cls(
            url=url,
            file_format=file_format,
            key_column=key_column,
            changed_rows=changed is True or str(changed).lower() == "true",
            first_poll=first_poll,
            options=ReadOptions(DELIMITERS[delimiter], ENCODINGS[encoding], header_row),
        )


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _key_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass
class _Read:
    """What one pass over the file found: the page's items and their hashes, and the counts."""

    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pending: list[tuple[bytes, bytes]] = field(default_factory=list)
    every_row: list[tuple[bytes, bytes]] = field(default_factory=list)  # only when asked (the first poll)
    rows: int = 0
    new: int = 0
    empty_keys: int = 0
    duplicate_keys: int = 0
    last_row: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": self.new,
            "stored_now": len(self.items),
            "skipped_empty_key": self.empty_keys,
            "skipped_duplicate_key": self.duplicate_keys,
        }


def _format_of(trigger: _Trigger, data: bytes, content_type: str) -> str:
    """`csv` or `xlsx`: as configured, else by content. A web page is refused (an unpublished sheet)."""
    head = data[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<head", b"<body")):
        raise PermanentSourceError(
            "the link answers a web page, not a CSV or XLSX file: publish the sheet to the web as CSV "
            "and use the link given there",
            code="sheet_not_csv",
            params={"content_type": content_type},
        )
    if trigger.file_format != "auto":
        return trigger.file_format
    return "xlsx" if data.startswith(b"PK\x03\x04") else "csv"


def _rows(file_format: str, data: bytes, options: ReadOptions) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        yield from iter_rows(file_format, data, options)
    except ImportFileError as exc:
        code = "sheet_bad_xlsx" if file_format == "xlsx" and exc.code == "unsupported_file" else f"sheet_{exc.code}"
        raise PermanentSourceError(exc.message, code=code) from exc


def read_rows(
    trigger: _Trigger,
    file_format: str,
    data: bytes,
    *,
    seen: Mapping[bytes, bytes] | None,
    after_row: int = 0,
    limit: int = PAGE_ROWS,
    every_row: bool = False,
) -> _Read:
    """One pass: the first `limit` rows after `after_row` that are not in `seen` (None: none seen).

    CPU work on up to 20 MB: run it off the event loop."""
    out = _Read()
    met: set[bytes] = set()
    for number, item in _rows(file_format, data, trigger.options):
        if out.rows == 0 and trigger.key_column not in item:
            raise PermanentSourceError(
                f"the sheet has no column {trigger.key_column!r}; its columns are: {', '.join(item)}",
                code="sheet_key_column_missing",
                params={"field": "key_column", "column": trigger.key_column, "columns": list(item)},
            )
        out.rows += 1
        key = _key_text(item[trigger.key_column])
        if not key:
            out.empty_keys += 1
            continue
        key_hash = _digest(key)
        if key_hash in met:
            out.duplicate_keys += 1
            continue
        met.add(key_hash)
        row_hash = _digest(json.dumps(item, ensure_ascii=False, sort_keys=True, default=str))
        if every_row:
            out.every_row.append((key_hash, row_hash))
        if number <= after_row:
            continue
        known = None if seen is None else seen.get(key_hash)
        if known is not None and (not trigger.changed_rows or known == row_hash):
            continue
        out.new += 1
        if len(out.items) < limit:
            source_key = item_key(key, row_hash.hex()[:16]) if trigger.changed_rows else item_key(key)
            out.items.append((source_key, {"_row": number, **item}))
            out.pending.append((key_hash, row_hash))
            out.last_row = number
    return out


def make_client(settings: Settings) -> httpx.AsyncClient:
    """Redirects followed: each hop is a new request through the guarded transport, checked again."""
    return httpx.AsyncClient(
        transport=GuardedTransport(settings),
        timeout=TIMEOUT,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
    )


async def download(url: str, settings: Settings, recorder: StepRecorder) -> tuple[bytes, str]:
    """The file's bytes and content type; the request (its last hop) is a step."""
    async with make_client(settings) as client:
        request = client.build_request("GET", url, headers={"Accept": _ACCEPT, "User-Agent": "bpmlink"})
        started, t0 = datetime.now(UTC), time.perf_counter()
        chunks: list[bytes] = []
        final: httpx.Response | None = None
        error: Exception | None = None
        try:
            async with asyncio.timeout(TOTAL_SECONDS):
                final = await client.send(request, stream=True)
                try:
                    size = 0
                    async for chunk in final.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_BYTES:
                            raise PermanentSourceError(
                                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
                                code="sheet_too_large",
                                params={"limit_mb": MAX_BYTES // (1024 * 1024)},
                            )
                        chunks.append(chunk)
                finally:
                    await final.aclose()
        except (httpx.HTTPError, BlockedAddressError, PermanentSourceError, TimeoutError) as exc:
            error = exc
        data = b"".join(chunks)
        # The last hop is the request shown (a redirected request's body is a stream: rebuilt without one).
        shown = request if final is None else httpx.Request("GET", final.request.url, headers=final.request.headers)
        _record(recorder, shown, final, data, started, t0, error)
    if error is not None:
        raise _download_error(error, recorder)
    assert final is not None
    status = final.status_code
    if status in (408, 429) or status >= 500:
        raise TransientSourceError(
            f"the sheet's site answered HTTP {status}", code=f"http_{status}", steps=recorder.steps
        )
    if status in (401, 403, 404, 410):
        raise PermanentSourceError(
            f"the sheet's link answered HTTP {status}: check that the sheet is published and the link is whole",
            code="sheet_not_found",
            steps=recorder.steps,
            params={"status": status},
        )
    if status >= 300:
        raise PermanentSourceError(
            f"the sheet's link answered HTTP {status}", code=f"http_{status}", steps=recorder.steps
        )
    return data, final.headers.get("content-type", "")


def _record(
    recorder: StepRecorder,
    request: httpx.Request,
    response: httpx.Response | None,
    data: bytes,
    started: datetime,
    t0: float,
    error: Exception | None,
) -> None:
    # The step keeps the start of the file only: the whole file would be read again to be cut. A binary
    # file (XLSX) is named, not shown: its bytes mean nothing in history, and a text column takes no NUL.
    head = None
    if response is not None:
        shown = data[: recorder.body_limit]
        if b"\x00" in shown:
            shown = f"({len(data)} bytes of a binary file)".encode()
        head = httpx.Response(response.status_code, headers=response.headers, content=shown)
    step = recorder.record(
        request,
        head,
        started_at=started,
        duration_ms=(time.perf_counter() - t0) * 1000,
        error=None if error is None else str(error) or type(error).__name__,
    )
    step.response_truncated = step.response_truncated or len(data) > recorder.body_limit


def _download_error(error: Exception, recorder: StepRecorder) -> SourceError:
    if isinstance(error, PermanentSourceError):
        error.steps = list(recorder.steps)
        return error
    if isinstance(error, TimeoutError):
        return TransientSourceError(
            f"the sheet did not download within {int(TOTAL_SECONDS)} seconds",
            code="sheet_timeout",
            steps=recorder.steps,
        )
    if isinstance(error, httpx.TooManyRedirects):
        return PermanentSourceError(
            f"the link redirects more than {MAX_REDIRECTS} times", code="sheet_too_many_redirects", steps=recorder.steps
        )
    classified = classify_exception(error)
    kind = TransientSourceError if classified.transient else PermanentSourceError
    return kind(classified.message, code=classified.code, steps=recorder.steps)


@dataclass(frozen=True)
class _Download:
    data: bytes
    content_type: str
    step: Step
    at: float = field(default_factory=time.monotonic)


# The file of a page that left more rows, kept for the next page of the same poll or backfill: else
# each page is a download (a first poll of 100,000 rows: 100 downloads of the file). Per process, a
# few files, for a minute; a new poll (the last page had no more) always downloads the file again.
REUSE_SECONDS = 60.0
_KEPT_FILES = 2
_KEPT: dict[tuple[uuid.UUID, str], _Download] = {}


async def _file(
    url: str, settings: Settings, recorder: StepRecorder, kept_as: tuple[uuid.UUID, str] | None
) -> tuple[bytes, str]:
    """The file: the one kept as `kept_as` if still fresh (its request is this page's too), else downloaded."""
    kept = _KEPT.pop(kept_as, None) if kept_as is not None else None
    if kept is not None and time.monotonic() - kept.at < REUSE_SECONDS:
        recorder.add(replace(kept.step))
        return kept.data, kept.content_type
    return await download(url, settings, recorder)


def _keep(kept_as: tuple[uuid.UUID, str] | None, download: _Download | None) -> None:
    """Keep the page's file for the next page (None: there is none, the bundle's file is let go)."""
    if kept_as is None:
        return
    _KEPT.pop(kept_as, None)
    if download is None:
        return
    while len(_KEPT) >= _KEPT_FILES:
        _KEPT.pop(next(iter(_KEPT)))  # the oldest
    _KEPT[kept_as] = download


def _note(recorder: StepRecorder, url: str, read: _Read) -> None:
    """The pass's counts as a step of its own: skipped rows are said, never dropped silently."""
    recorder.add(
        Step(
            system=recorder.system,
            method="PARSE",
            url=url,
            request_headers={},
            request_body=None,
            response_body=json.dumps(read.summary()),
        )
    )


class SheetUrlSource:
    app = "sheet_url"

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
    ) -> Page:
        trigger = _Trigger.read(config)
        scope = env.poll
        if scope is not None and not scope.backfill and cursor and cursor.get("pending"):
            # The previous page was committed with this cursor: its rows are seen now.
            await sheet_rows.remember(
                scope.db, scope.bundle_id, [(bytes.fromhex(k), bytes.fromhex(r)) for k, r in cursor["pending"]]
            )
        kept_as = None if scope is None else (scope.bundle_id, trigger.url)
        after = int((cursor or {}).get("row") or 0) if scope is not None and scope.backfill else 0
        continuing = bool(after or (cursor or {}).get("more"))
        try:
            data, content_type = await _file(trigger.url, env.settings, recorder, kept_as if continuing else None)
            file_format = _format_of(trigger, data, content_type)
        except SourceError as exc:
            exc.steps = list(recorder.steps)
            exc.params.setdefault("field", "url")  # what the link answered is the link's fault
            raise
        page_rows = max(limit, PAGE_ROWS) if scope is not None else limit
        if scope is None:
            read = await self._read(trigger, file_format, data, recorder, seen=None, limit=page_rows)
            return Page(items=read.items, next_cursor=None, more=False)
        if scope.backfill:
            read = await self._read(trigger, file_format, data, recorder, seen=None, after_row=after, limit=page_rows)
            more = read.new > len(read.items)
            _keep(kept_as, _Download(data, content_type, recorder.steps[0]) if more else None)
            return Page(items=read.items, next_cursor={"row": read.last_row or after}, more=more)
        # A new key column makes the seen keys meaningless: the bundle starts over as on its first poll.
        first = cursor is None or cursor.get("key_column") != trigger.key_column
        baseline = first and trigger.first_poll == "new"
        if first:
            await sheet_rows.forget(scope.db, scope.bundle_id)
        seen = {} if first else await sheet_rows.seen(scope.db, scope.bundle_id)
        read = await self._read(
            trigger, file_format, data, recorder, seen=seen, limit=0 if baseline else page_rows, every_row=baseline
        )
        if baseline:
            await sheet_rows.remember(scope.db, scope.bundle_id, read.every_row)
        more = not baseline and read.new > len(read.items)
        _keep(kept_as, _Download(data, content_type, recorder.steps[0]) if more else None)
        next_cursor = {
            "key_column": trigger.key_column,
            "pending": [[k.hex(), r.hex()] for k, r in read.pending],
            "more": more,
            "last": {**read.summary(), "baseline": baseline},
        }
        return Page(items=read.items, next_cursor=next_cursor, more=more)

    async def _read(
        self, trigger: _Trigger, file_format: str, data: bytes, recorder: StepRecorder, **kwargs: Any
    ) -> _Read:
        try:
            read = await asyncio.to_thread(read_rows, trigger, file_format, data, **kwargs)
        except SourceError as exc:
            exc.steps = list(recorder.steps)
            raise
        _note(recorder, trigger.url, read)
        return read
