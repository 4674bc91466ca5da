"""Attachments: the `*File` objects, `FileApiService/UploadFile` (auth, Content-Range chunks, MaxFileSize),
the body served back by OData, and the admin listing."""

import hashlib
import uuid

import pytest

from .conftest import EMPTY, SUPERVISOR

UPLOAD = "/0/rest/FileApiService/UploadFile"
FILE_TYPE = "529bc2f8-0ee0-df11-971b-001d60e938c6"
LINK_TYPE = "539bc2f8-0ee0-df11-971b-001d60e938c6"


def params(file_id: str, total: int, **kw: str) -> dict[str, str]:
    out = {
        "fileId": file_id,
        "totalFileLength": str(total),
        "mimeType": "text/plain",
        "fileName": "notes.txt",
        "columnName": "Data",
        "entitySchemaName": "ContactFile",
        "parentColumnName": "Contact",
        "parentColumnValue": SUPERVISOR,
    }
    out.update(kw)
    return out


def upload(client, file_id: str, data: bytes, start: int = 0, total: int | None = None, **kw: str):
    total = len(data) if total is None else total
    end = start + len(data) - 1
    return client.post(
        UPLOAD,
        params=params(file_id, total, **kw),
        content=data,
        headers={"Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": "text/plain"},
    )


@pytest.mark.parametrize(
    "entity", ["ContactFile", "AccountFile", "ActivityFile", "LeadFile", "OpportunityFile", "CaseFile"]
)
def test_file_objects_have_the_attachment_columns(api, entity):
    parent = entity[: -len("File")]
    row = api.post(f"/0/odata/{entity}", json={"Name": "a.txt"}).json()
    for column in ("Name", "Notes", f"{parent}Id", "TypeId", "Version", "Size", "TotalSize", "CreatedOn"):
        assert column in row, column
    assert "Data" not in row and row["Data@odata.mediaEditLink"] == f"{entity}({row['Id']})/Data"
    assert row["TypeId"] == FILE_TYPE and row["Version"] == 1  # the schema's defaults


def test_file_types_are_seeded(api):
    names = {r["Id"]: r["Name"] for r in api.get("/0/odata/FileType").json()["value"]}
    assert names[FILE_TYPE] == "File" and names[LINK_TYPE] == "Link"


def test_upload_without_a_session_is_401(anon):
    r = upload(anon, str(uuid.uuid4()), b"hello")
    assert r.status_code == 401


def test_upload_creates_the_record_and_odata_serves_the_bytes(api, sandbox):
    file_id = str(uuid.uuid4())
    r = upload(api, file_id, "привет, file".encode())
    assert r.status_code == 200 and r.json()["success"] is True and r.json()["errorInfo"] is None
    row = api.get(f"/0/odata/ContactFile({file_id})").json()
    assert row["Name"] == "notes.txt" and row["ContactId"] == SUPERVISOR and row["TypeId"] == FILE_TYPE
    assert row["Size"] == len("привет, file".encode()) and row["CreatedById"] == SUPERVISOR
    body = api.get(f"/0/odata/ContactFile({file_id})/Data")
    assert body.status_code == 200 and body.content == "привет, file".encode()
    assert body.headers["content-type"].startswith("text/plain")
    assert api.get(f"/0/odata/ContactFile({file_id})/Data/$value").content == body.content
    listed = sandbox.files()
    assert listed == [
        {
            "entity": "ContactFile",
            "id": file_id,
            "parent_column": "Contact",
            "parent_id": SUPERVISOR,
            "name": "notes.txt",
            "size": len(body.content),
            "mime": "text/plain",
            "sha256": hashlib.sha256(body.content).hexdigest(),
        }
    ]


def test_upload_fills_a_record_created_by_odata_first(api):
    row = api.post("/0/odata/ContactFile", json={"Name": "report.pdf", "ContactId": SUPERVISOR}).json()
    assert upload(api, row["Id"], b"%PDF-1.4", fileName="other.pdf").json()["success"] is True
    again = api.get(f"/0/odata/ContactFile({row['Id']})").json()
    assert again["Name"] == "report.pdf" and again["Size"] == 8
    assert api.get(f"/0/odata/ContactFile({row['Id']})/Data").content == b"%PDF-1.4"


def test_chunks_are_joined_in_order(api):
    file_id, data = str(uuid.uuid4()), bytes(range(256)) * 40
    for start in range(0, len(data), 3000):
        r = upload(api, file_id, data[start : start + 3000], start=start, total=len(data))
        assert r.status_code == 200, r.text
    assert api.get(f"/0/odata/ContactFile({file_id})/Data").content == data


def test_a_chunk_out_of_order_is_refused(api):
    file_id = str(uuid.uuid4())
    upload(api, file_id, b"abc", start=0, total=9)
    r = upload(api, file_id, b"ghi", start=6, total=9)
    assert r.status_code == 400 and r.json()["success"] is False
    assert "3 bytes" in r.json()["errorInfo"]["message"]


def test_uploading_again_from_zero_replaces_the_body(api, sandbox):
    file_id = str(uuid.uuid4())
    upload(api, file_id, b"first version")
    upload(api, file_id, b"second")
    assert api.get(f"/0/odata/ContactFile({file_id})/Data").content == b"second"
    assert len(sandbox.files()) == 1


@pytest.mark.parametrize("content_range", [None, "bytes 0-3/5", "bytes 0-4/6", "items 0-4/5"])
def test_a_missing_or_wrong_content_range_is_refused(api, content_range):
    headers = {"Content-Range": content_range} if content_range else {}
    r = api.post(UPLOAD, params=params(str(uuid.uuid4()), 5), content=b"hello", headers=headers)
    assert r.status_code == 400 and r.json()["success"] is False


def test_over_max_file_size_is_refused_before_anything_is_stored(api, sandbox):
    total = 10 * 1024 * 1024 + 1
    r = upload(api, str(uuid.uuid4()), b"x" * 1024, total=total)
    assert r.status_code == 413 and r.json()["success"] is False
    assert "MaxFileSize" in r.json()["errorInfo"]["message"]
    assert sandbox.files() == []


def test_max_file_size_is_a_knob(api, sandbox):
    sandbox.set_faults(max_file_size=4)
    assert upload(api, str(uuid.uuid4()), b"12345").status_code == 413
    assert upload(api, str(uuid.uuid4()), b"1234").status_code == 200


def test_an_unknown_parent_is_a_foreign_key_error(api):
    r = upload(api, str(uuid.uuid4()), b"x", parentColumnValue=str(uuid.uuid4()))
    assert r.status_code == 500 and "foreign key" in r.json()["errorInfo"]["message"]


def test_an_entity_without_a_data_column_is_refused(api):
    r = upload(api, str(uuid.uuid4()), b"x", entitySchemaName="Contact")
    assert r.status_code == 400 and r.json()["success"] is False


def test_the_listing_filters_by_entity(api, sandbox):
    upload(api, str(uuid.uuid4()), b"x")
    assert sandbox.files("AccountFile") == []
    assert [f["entity"] for f in sandbox.files("ContactFile")] == ["ContactFile"]
    assert EMPTY not in {f["parent_id"] for f in sandbox.files()}
