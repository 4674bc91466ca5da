"""csv_import: an uploaded CSV/XLSX file's rows become events, with progress, once each."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import openpyxl
import pytest
from bpmlink_worker.imports import run_import
from bpmlink_worker.process import process_event
from sqlalchemy import select

from bpmlink.db.models import Import, Operation
from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.app import browser
from tests.imports.conftest import csv_bytes, import_events, items_by_row, operation_count, upload

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def test_a_csv_of_10000_rows_ends_with_10000_operations_and_reports_progress(
    client, sessionmaker, queue, import_bundle_id, worker
):
    response = await upload(client, import_bundle_id, "contacts.csv", csv_bytes(10_000))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert (accepted["status"], accepted["format"], accepted["found"]) == ("queued", "csv", 0)
    assert accepted["columns"] == ["first_name", "last_name", "email", "phone"]
    assert await queue.exists(f"arq:job:{accepted['job_id']}")  # enqueued after the commit
    listed = (await client.get(f"/api/v1/bundles/{import_bundle_id}/imports")).json()
    assert [i["id"] for i in listed["items"]] == [accepted["id"]]

    seen: list[tuple[int, int, str]] = []

    async def between_batches(found: int, stored: int) -> None:
        # Read through the API (its own session): only committed progress is visible there.
        progress = (await client.get(f"/api/v1/imports/{accepted['id']}")).json()
        seen.append((progress["found"], progress["stored"], progress["status"]))
        assert (progress["found"], progress["stored"]) == (found, stored)

    await queue.delete(f"arq:job:{accepted['job_id']}")
    import_id = uuid.UUID(accepted["id"])
    outcome = await run_import(worker, import_id, batch_size=1000, on_batch=between_batches)
    assert outcome == "done"
    assert seen == [(n, n, "running") for n in range(1000, 10_001, 1000)]

    assert await operation_count(sessionmaker, import_bundle_id) == 10_000
    assert await operation_count(sessionmaker, import_bundle_id, "queued") == 10_000
    final = (await client.get(f"/api/v1/imports/{accepted['id']}")).json()
    assert (final["status"], final["found"], final["stored"], final["processed"], final["failed"]) == (
        "done",
        10_000,
        10_000,
        0,
        0,
    )
    assert final["finished_at"] is not None
    # Every stored event was handed to the queue (the deterministic job id of event.process).
    events = await import_events(sessionmaker, import_bundle_id)
    assert {e.origin for e in events} == {"import"}
    assert all([await queue.exists(f"arq:job:event:{e.id}") for e in events[::997]])
    assert items_by_row(events)[10_000]["email"] == "ann10000@import.example"


async def test_an_xlsx_file_is_imported_and_processed_rows_are_counted(
    client, sessionmaker, queue, import_bundle_id, worker_ctx, sandbox, worker
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["first_name", "last_name", "email", "phone", "score", "joined"])
    sheet.append(["Ольга", "Иванова", "olga@xlsx.example", "+7 912 345-67-89", 42, datetime(2026, 11, 1, 9, 30)])
    sheet.append([None, None, None, None, None, None])  # a blank row is skipped, not counted
    sheet.append(["Petr", "Sidorov", "petr@xlsx.example", None, 3.5, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = await upload(client, import_bundle_id, "people.xlsx", buffer.getvalue(), mime)
    assert response.status_code == 202, response.text
    import_id = response.json()["id"]
    assert response.json()["format"] == "xlsx"

    assert await run_import(worker, uuid.UUID(import_id)) == "done"
    items = items_by_row(await import_events(sessionmaker, import_bundle_id))
    assert items[1] == {
        "first_name": "Ольга",
        "last_name": "Иванова",
        "email": "olga@xlsx.example",
        "phone": "+7 912 345-67-89",
        "score": 42,
        "joined": "2026-11-01T09:30:00",
    }
    assert items[2]["score"] == 3.5 and items[2]["phone"] is None and set(items) == {1, 2}

    first = next(e for e in await import_events(sessionmaker, import_bundle_id) if e.source_item_key.endswith(":1"))
    # Stored as a webhook's event is: pending event, queued operation with its search terms.
    async with sessionmaker() as session:
        operation = await session.scalar(select(Operation).where(Operation.event_id == first.id))
    assert operation is not None and first.state == "pending" and operation.status == "queued"
    assert operation.source_data == first.item and "olga@xlsx.example" in operation.search_terms
    assert await process_event(worker_ctx, str(first.id)) == "created"
    progress = (await client.get(f"/api/v1/imports/{import_id}")).json()
    assert (progress["found"], progress["stored"], progress["processed"], progress["failed"]) == (2, 2, 1, 0)
    # The wizard's sample is the file's first row.
    sample = (await client.get(f"/api/v1/bundles/{import_bundle_id}/sample")).json()
    assert sample["sample"]["email"] == "olga@xlsx.example"


CP1251_SEMICOLON = (
    'Имя;Фамилия;Почта\r\nИван;Петров;ivan@cp1251.example\r\n"Анна; мл.";Сидорова;anna@cp1251.example\r\n'
)
BOM_TAB = "\ufeffИмя\tФамилия\tПочта\nИван\tПетров\tivan@cp1251.example\nАнна; мл.\tСидорова\tanna@cp1251.example\n"


@pytest.mark.parametrize(
    ("data", "name"),
    [(CP1251_SEMICOLON.encode("cp1251"), "выгрузка.csv"), (BOM_TAB.encode("utf-8"), "export.tsv")],
    ids=["windows-1251-semicolon", "utf8-bom-tab"],
)
async def test_cyrillic_files_in_windows_1251_or_with_a_bom_and_other_delimiters(
    client, sessionmaker, queue, import_bundle_id, data, name, worker
):
    response = await upload(client, import_bundle_id, name, data)
    assert response.status_code == 202, response.text
    assert response.json()["columns"] == ["Имя", "Фамилия", "Почта"]
    assert await run_import(worker, uuid.UUID(response.json()["id"])) == "done"
    items = items_by_row(await import_events(sessionmaker, import_bundle_id))
    assert items == {
        1: {"Имя": "Иван", "Фамилия": "Петров", "Почта": "ivan@cp1251.example"},
        2: {"Имя": "Анна; мл.", "Фамилия": "Сидорова", "Почта": "anna@cp1251.example"},
    }


async def test_a_rerun_after_a_crash_stores_every_row_once(client, sessionmaker, queue, import_bundle_id, worker):
    response = await upload(client, import_bundle_id, "rows.csv", csv_bytes(250))
    import_id = uuid.UUID(response.json()["id"])

    class Crash(Exception):
        pass

    async def crash_after_the_second_batch(found: int, stored: int) -> None:
        if found == 200:
            raise Crash

    with pytest.raises(Crash):
        await run_import(worker, import_id, batch_size=100, on_batch=crash_after_the_second_batch)
    progress = (await client.get(f"/api/v1/imports/{import_id}")).json()
    assert (progress["status"], progress["found"], progress["stored"]) == ("running", 200, 200)

    assert await run_import(worker, import_id, batch_size=100) == "done"  # arq's retry
    events = await import_events(sessionmaker, import_bundle_id)
    assert len(events) == 250 and len({e.source_item_key for e in events}) == 250
    assert await run_import(worker, import_id) == "done"  # a finished import is not run again

    # Even with its progress lost, a rerun finds every row already stored.
    async with sessionmaker() as session:
        row = await session.get(Import, import_id)
        assert row is not None
        row.status, row.rows_found, row.rows_stored = "running", 0, 0
        await session.commit()
    assert await run_import(worker, import_id, batch_size=100) == "done"
    assert len(await import_events(sessionmaker, import_bundle_id)) == 250
    assert await operation_count(sessionmaker, import_bundle_id) == 250
    final = (await client.get(f"/api/v1/imports/{import_id}")).json()
    assert (final["found"], final["stored"]) == (250, 0)


async def test_a_stopped_bundle_holds_the_imported_rows(client, sessionmaker, queue, import_bundle_id, worker):
    assert (await client.post(f"/api/v1/bundles/{import_bundle_id}/stop")).status_code == 200
    response = await upload(client, import_bundle_id, "rows.csv", csv_bytes(3))
    assert await run_import(worker, uuid.UUID(response.json()["id"])) == "done"
    assert await operation_count(sessionmaker, import_bundle_id, "held") == 3


@pytest.mark.parametrize(
    ("name", "data", "status", "problem"),
    [
        ("empty.csv", b"", 422, "empty_file"),
        ("blank.csv", b"\r\n \r\n", 422, "empty_file"),
        ("header-only.csv", b"email,name\r\n", 422, "empty_file"),
        ("no-name.csv", b"email,,name\r\na@b.c,x,y\r\n", 422, "no_header"),
        ("twice.csv", b"email;email\r\na@b.c;d@e.f\r\n", 422, "no_header"),
        ("numbers.csv", b"1,2,3\r\n4,5,6\r\n", 422, "no_header"),
        ("doc.pdf", b"%PDF-1.4 a document", 415, "unsupported_file"),
        ("binary.csv", b"email\x00\x01\x02name", 415, "unsupported_file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", 415, "unsupported_file"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", 415, "unsupported_file"),
        ("fake.xlsx", b"email,name\r\na,b\r\n", 415, "unsupported_file"),
    ],
)
async def test_bad_files_are_refused_naming_the_problem(
    client, sessionmaker, import_bundle_id, name, data, status, problem
):
    response = await upload(client, import_bundle_id, name, data)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["details"] == {"problem": problem} and error["message"]
    listed = (await client.get(f"/api/v1/bundles/{import_bundle_id}/imports")).json()
    assert listed["items"] == []


async def test_an_upload_needs_a_file_field_and_a_csv_import_bundle(client, connection_id, import_bundle_id):
    not_multipart = await client.post(f"/api/v1/bundles/{import_bundle_id}/import", json={"file": "x"})
    assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["error"]["message"]
    wrong_field = await client.post(
        f"/api/v1/bundles/{import_bundle_id}/import", files={"upload": ("a.csv", b"a\r\n1\r\n", "text/csv")}
    )
    assert wrong_field.status_code == 400 and "'file'" in wrong_field.json()["error"]["message"]

    from tests.fixtures.pipeline import make_bundle

    webhook = await make_bundle(client, connection_id, start=False)
    refused = await upload(client, webhook["id"], "a.csv", csv_bytes(1))
    assert refused.status_code == 422


async def test_another_workspace_sees_404(app, client, sessionmaker, queue, import_bundle_id):
    response = await upload(client, import_bundle_id, "rows.csv", csv_bytes(2))
    import_id = response.json()["id"]
    stranger = await make_workspace(sessionmaker, "Other")
    async with browser(app) as other:
        await login(other, stranger)
        assert (await other.get(f"/api/v1/imports/{import_id}")).status_code == 404
        assert (await other.get(f"/api/v1/bundles/{import_bundle_id}/imports")).status_code == 404
        assert (await upload(other, import_bundle_id, "rows.csv", csv_bytes(2))).status_code == 404
    assert (await client.get(f"/api/v1/imports/{import_id}")).status_code == 200


async def test_a_csv_that_breaks_the_reader_is_refused_not_crashed(client, import_bundle_id):
    import csv

    limit = csv.field_size_limit(64)  # stands in for a field over the reader's 10 MB limit
    try:
        response = await upload(client, import_bundle_id, "long.csv", b"email,name\r\n" + b"a" * 100 + b",x\r\n")
    finally:
        csv.field_size_limit(limit)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"] == {"problem": "bad_csv"}
