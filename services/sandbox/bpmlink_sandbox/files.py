"""`FileApiService/UploadFile` (§3.10): a file body attached to a record, in one request or in chunks.

The service creates the file record (`<Parent>File`: Name, the parent lookup, Type File, Size)
when `fileId` is not there yet — public clients send a fresh random `fileId` and no OData
create — and fills the record an OData POST created first. Chunks arrive in order, each with
`Content-Range: bytes a-b/total`; a chunk starting at 0 starts the body afresh. The answer is
Creatio's `BaseResponse` JSON.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from .auth import Principal
from .http import Request, Response, json_response
from .pages import too_large_text
from .records import FILE_ENTITIES, FILE_TYPE
from .state import State
from .values import GUID_RE
from .writes import WriteError, create, update

UPLOAD_PATH = "/rest/FileApiService/UploadFile"
_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$", re.IGNORECASE)


def answer(success: bool = True, status: int = 200, message: str = "", error_code: str = "") -> Response:
    """Creatio's `BaseResponse`; a refusal carries `errorInfo` (errorCode, message, stackTrace)."""
    info = None if success else {"errorCode": error_code, "message": message, "stackTrace": None}
    return json_response(
        {
            "success": success,
            "errorInfo": info,
            "nextPrcElReady": False,
            "queryId": None,
            "responseStatus": None,
            "rowsAffected": -1,
        },
        status,
    )


def _refuse(message: str, error_code: str = "ArgumentException", status: int = 400) -> Response:
    return answer(False, status, message, error_code)


def stored_body(row: dict[str, Any], column: str = "Data") -> tuple[bytes, str]:
    """The bytes held in a stream column and their content type."""
    held = row.get(f"@stream:{column}")
    if not held:
        return b"", ""
    return base64.b64decode(held["b64"]), str(held["ct"])


async def upload(state: State, who: Principal, req: Request) -> Response:
    if req.method != "POST":
        return Response(405, b"", None, [("Allow", "POST")])
    q = dict(req.query)
    store = state.store
    ent = store.schema.get(q.get("entitySchemaName", ""))
    column = q.get("columnName") or "Data"
    if ent is None or getattr(ent.columns.get(column), "kind", "") != "stream":
        return _refuse(f"Entity schema '{q.get('entitySchemaName', '')}' has no binary column '{column}'.")
    file_id = q.get("fileId", "").lower()
    parent = ent.navs.get(q.get("parentColumnName", ""))
    parent_id = q.get("parentColumnValue", "").lower()
    if not GUID_RE.match(file_id) or parent is None or not GUID_RE.match(parent_id):
        return _refuse("fileId, parentColumnName (a lookup column) and parentColumnValue (a GUID) are required.")
    try:
        total = int(q.get("totalFileLength", ""))
    except ValueError:
        return _refuse("totalFileLength must be a number.")
    limit = state.faults.max_file_size
    if total > limit:
        return _refuse(too_large_text(limit), "FileSizeLimitExceededException", 413)
    m = _RANGE.match(req.headers.get("content-range", ""))
    if m is None:
        return _refuse("The Content-Range header (bytes start-end/total) is required.")
    start, end, whole = (int(g) for g in m.groups())
    if whole != total or end < start or end >= total or end - start + 1 != len(req.body):
        return _refuse(
            f"Content-Range {m.group(0).strip()} does not match the body ({len(req.body)} bytes) "
            f"and totalFileLength {total}."
        )

    row = store.get(ent.name, file_id)
    held, _ = stored_body(row, column) if row is not None else (b"", "")
    if start != 0 and start != len(held):
        return _refuse(f"The chunk starts at {start}, but {len(held)} bytes of the file were received.")
    name = q.get("fileName") or "file"
    values: dict[str, Any] = {"Size": total, "TotalSize": total}
    try:
        if row is None:
            values.update({"Id": file_id, "Name": name, parent.prop: parent_id, "TypeId": FILE_TYPE, "Version": 1})
            row, _ = await create(store, ent, values, who.contact_id, 4)
        elif start == 0:
            values["Name"] = row.get("Name") or name
            await update(store, ent, file_id, values, who.contact_id, 4)
            row = store.get(ent.name, file_id)
    except WriteError as exc:
        return _refuse(exc.message, "DbOperationException", 500)
    assert row is not None
    body = (held if start else b"") + req.body
    mime = q.get("mimeType") or req.headers.get("content-type") or "application/octet-stream"
    new = dict(row)
    new[f"@stream:{column}"] = {"ct": mime, "b64": base64.b64encode(body).decode()}
    await store.replace(ent.name, new)
    return answer()


def listing(state: State, entity: str | None = None) -> list[dict[str, Any]]:
    """Every stored file record, for tests: `GET /_sandbox/files[?entity=ContactFile]`."""
    out: list[dict[str, Any]] = []
    for name in FILE_ENTITIES:
        if entity and name != entity:
            continue
        parent = name[: -len("File")]
        for row in state.store.scan(name):
            data, mime = stored_body(row)
            out.append(
                {
                    "entity": name,
                    "id": row["Id"],
                    "parent_column": parent,
                    "parent_id": row.get(f"{parent}Id"),
                    "name": row.get("Name", ""),
                    "size": len(data),
                    "mime": mime,
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    return out
