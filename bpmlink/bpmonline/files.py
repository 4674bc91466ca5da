"""Attaching a file to a record: `FileApiService/UploadFile` in chunks (reference §3.10).

Each chunk is one POST with `Content-Range: bytes a-b/total`; the service creates the
`<Parent>File` record (Name, the parent lookup, Type "File", Size) under the caller's `fileId`
when it does not exist yet, so no OData create comes first. The caller derives `fileId` from
(event, step): a repeated call uploads again under the same id, starting at byte 0, which
replaces the body of the one record instead of adding a second file (a partly uploaded body
left by a failed attempt is replaced the same way).

The bytes are never recorded in the history: each step shows which range of how many bytes it
carried. bpm'online refuses a file over its MaxFileSize system setting (10 MB by default):
that refusal is a `ValidationError` with the code `file_too_large`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from bpmlink.bpmonline._http import decode_json
from bpmlink.bpmonline.dialects import as_uuid, check_entity_name
from bpmlink.bpmonline.errors import BpmError, ValidationError, extract_message
from bpmlink.bpmonline.steps import StepRecorder

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient

UPLOAD_PATH = "rest/FileApiService/UploadFile"
# Creatio.Client (Creatio's own .NET client) sends 1 MB chunks; the Academy example uses 512 KB.
CHUNK_SIZE = 1024 * 1024
_TOO_LARGE_MARKERS = ("maxfilesize", "file size", "filesizelimit", "too large")


async def attach_file(
    client: BpmClient,
    entity: str,
    parent_column: str,
    parent_id: str,
    file_id: uuid.UUID,
    name: str,
    data: bytes,
    mime: str,
    recorder: StepRecorder | None = None,
) -> None:
    """Upload `data` as the file `file_id` of `entity` (ContactFile…) attached to the record
    `parent_id` through the lookup `parent_column` (Contact…)."""
    check_entity_name(entity)
    check_entity_name(parent_column)  # a lookup column of the file object: an identifier
    rec = recorder if recorder is not None else StepRecorder(body_limit=client.body_limit)
    if not data:
        raise ValidationError("an empty file cannot be attached", code="file_empty", steps=rec.steps)
    total = len(data)
    params = {
        "fileId": str(file_id),
        "totalFileLength": str(total),
        "mimeType": mime,
        "fileName": name,
        "columnName": "Data",
        "entitySchemaName": entity,
        "parentColumnName": parent_column,
        "parentColumnValue": str(as_uuid(parent_id)),
    }
    url = client.site_url(UPLOAD_PATH)
    for start in range(0, total, CHUNK_SIZE):
        chunk = data[start : start + CHUNK_SIZE]
        end = start + len(chunk) - 1
        headers = {"Content-Type": mime, "Content-Range": f"bytes {start}-{end}/{total}"}
        note = f"[file {name!r}, {mime}: bytes {start}-{end} of {total}, not recorded]"
        try:
            response = await client.request(
                "POST", url, params=params, content=chunk, headers=headers, body_note=note, recorder=rec
            )
        except BpmError as exc:
            refined = _refined(exc)
            if refined is exc:
                raise
            raise refined from exc
        body = decode_json(response)
        if isinstance(body, dict) and body.get("success") is False:
            message = extract_message(body) or "bpm'online did not accept the file"
            raise _refined(
                ValidationError(message, status=response.status_code, code="upload_refused", steps=rec.steps)
            )


def _refined(exc: BpmError) -> BpmError:
    """The size refusal named as such (bpm'online answers it as a 413 or in the error's words)."""
    low = exc.message.lower()
    if exc.status == 413 or any(marker in low for marker in _TOO_LARGE_MARKERS):
        return ValidationError(exc.message, status=exc.status, code="file_too_large", steps=exc.steps)
    return exc
