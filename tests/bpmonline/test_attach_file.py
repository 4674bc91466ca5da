"""`BpmClient.attach_file` against the sandbox: the bytes round-trip, chunks, one file per id, the size
refusal, relogin, and a history that shows the requests without the bytes."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from bpmlink.bpmonline import StepRecorder, ValidationError
from bpmlink.bpmonline.files import CHUNK_SIZE

SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
OUR_COMPANY = "e308b781-3c5b-4ecb-89ef-5c1ed4da488e"


async def read_body(bpm, entity: str, file_id: uuid.UUID) -> bytes:
    response = await bpm.request("GET", f"{entity}({file_id})/Data", expect="none")
    return response.content


async def test_the_bytes_round_trip_through_odata(make_client, sandbox):
    bpm = make_client()
    file_id, data = uuid.uuid4(), "Счёт №1 — оплачен\n".encode()
    await bpm.attach_file("ContactFile", "Contact", SUPERVISOR, file_id, "счёт.txt", data, "text/plain")
    assert await read_body(bpm, "ContactFile", file_id) == data
    record = await bpm.get("ContactFile", file_id)
    assert record["Name"] == "счёт.txt" and record["ContactId"] == SUPERVISOR and record["Size"] == len(data)
    assert record["TypeId"] == "529bc2f8-0ee0-df11-971b-001d60e938c6"  # "File", not "Link"
    [stored] = sandbox.files()
    assert stored["mime"] == "text/plain" and stored["sha256"] == hashlib.sha256(data).hexdigest()


async def test_another_parent_entity(make_client, sandbox):
    bpm = make_client()
    file_id = uuid.uuid4()
    await bpm.attach_file("AccountFile", "Account", OUR_COMPANY, file_id, "logo.png", b"\x89PNG\r\n", "image/png")
    [stored] = sandbox.files("AccountFile")
    assert stored["parent_column"] == "Account" and stored["parent_id"] == OUR_COMPANY
    assert stored["id"] == str(file_id) and stored["name"] == "logo.png"


async def test_three_megabytes_go_in_chunks_and_the_history_holds_no_bytes(make_client, sandbox):
    bpm = make_client()
    file_id, data = uuid.uuid4(), os.urandom(3 * 1024 * 1024 + 10)
    rec = StepRecorder()
    await bpm.attach_file(
        "ContactFile", "Contact", SUPERVISOR, file_id, "big.bin", data, "application/pdf", recorder=rec
    )
    uploads = [s for s in rec.steps if "FileApiService/UploadFile" in s.url]
    assert len(uploads) == 4 and all(s.status == 200 for s in uploads)
    total = len(data)
    ranges = [s.request_headers["content-range"] for s in uploads]
    assert ranges == [
        f"bytes 0-{CHUNK_SIZE - 1}/{total}",
        f"bytes {CHUNK_SIZE}-{2 * CHUNK_SIZE - 1}/{total}",
        f"bytes {2 * CHUNK_SIZE}-{3 * CHUNK_SIZE - 1}/{total}",
        f"bytes {3 * CHUNK_SIZE}-{total - 1}/{total}",
    ]
    for step in uploads:
        assert step.request_body is not None and len(step.request_body) < 200
        assert "big.bin" in step.request_body and "not recorded" in step.request_body
        assert step.request_headers["bpmcsrf"] == "[redacted]"
    assert uploads[0].url.startswith(f"{sandbox.base_url}/0/rest/FileApiService/UploadFile?")
    assert f"fileId={file_id}" in uploads[0].url and "entitySchemaName=ContactFile" in uploads[0].url
    assert await read_body(bpm, "ContactFile", file_id) == data


async def test_the_same_file_id_twice_is_one_file(make_client, sandbox):
    bpm = make_client()
    file_id, data = uuid.uuid4(), os.urandom(CHUNK_SIZE + 5)
    await bpm.attach_file("ContactFile", "Contact", SUPERVISOR, file_id, "a.bin", data, "application/octet-stream")
    await bpm.attach_file("ContactFile", "Contact", SUPERVISOR, file_id, "a.bin", data, "application/octet-stream")
    stored = sandbox.files()
    assert len(stored) == 1 and stored[0]["size"] == len(data)
    assert stored[0]["sha256"] == hashlib.sha256(data).hexdigest()


async def test_over_ten_megabytes_is_file_too_large(make_client, sandbox):
    bpm = make_client()
    rec = StepRecorder()
    with pytest.raises(ValidationError) as caught:
        await bpm.attach_file(
            "ContactFile",
            "Contact",
            SUPERVISOR,
            uuid.uuid4(),
            "huge.bin",
            b"\0" * (11 * 1024 * 1024),
            "application/octet-stream",
            recorder=rec,
        )
    assert caught.value.code == "file_too_large" and caught.value.status == 413
    assert "MaxFileSize" in caught.value.message
    assert caught.value.steps and caught.value.steps[-1].status == 413
    assert sandbox.files() == []


async def test_the_instance_limit_is_what_counts(make_client, sandbox):
    sandbox.set_faults(max_file_size=1000)
    bpm = make_client()
    with pytest.raises(ValidationError) as caught:
        await bpm.attach_file("ContactFile", "Contact", SUPERVISOR, uuid.uuid4(), "a.txt", b"x" * 1001, "text/plain")
    assert caught.value.code == "file_too_large"


async def test_an_expired_session_relogs_in_and_the_upload_finishes(make_client, sbx, sandbox):
    bpm = make_client()
    await bpm.query("Contact", top=1)
    await sbx.expire_sessions()
    file_id, data = uuid.uuid4(), os.urandom(CHUNK_SIZE + 1)
    rec = StepRecorder()
    await bpm.attach_file("ContactFile", "Contact", SUPERVISOR, file_id, "a.bin", data, "application/zip", recorder=rec)
    assert [s.status for s in rec.steps] == [401, 200, 200, 200]  # refused, login, both chunks
    assert await read_body(bpm, "ContactFile", file_id) == data


async def test_an_unknown_parent_is_a_data_error(make_client):
    bpm = make_client()
    with pytest.raises(ValidationError) as caught:
        await bpm.attach_file("ContactFile", "Contact", str(uuid.uuid4()), uuid.uuid4(), "a.txt", b"x", "text/plain")
    assert caught.value.code == "data_error" and "foreign key" in caught.value.message


async def test_an_empty_file_is_refused_without_a_request(make_client):
    bpm = make_client()
    rec = StepRecorder()
    with pytest.raises(ValidationError) as caught:
        await bpm.attach_file(
            "ContactFile", "Contact", SUPERVISOR, uuid.uuid4(), "a.txt", b"", "text/plain", recorder=rec
        )
    assert caught.value.code == "file_empty" and rec.steps == []


@pytest.mark.parametrize(("entity", "column"), [("Contact File", "Contact"), ("ContactFile", "Contact/../x")])
async def test_bad_names_are_refused_before_sending(make_client, entity, column):
    bpm = make_client()
    with pytest.raises(ValueError):
        await bpm.attach_file(entity, column, SUPERVISOR, uuid.uuid4(), "a.txt", b"x", "text/plain")
