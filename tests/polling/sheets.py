"""Helpers for the `sheet_url` tests: sheets as CSV or XLSX bytes, the trigger config, a bundle over it."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx

from tests.polling.conftest import make_polling_bundle

PAYLOADS = Path(__file__).resolve().parents[1] / "apps" / "payloads" / "sheet_url"
HEADER = ["email", "first_name", "last_name", "phone"]


def lead(n: int, **changes: Any) -> list[Any]:
    row = {"email": f"lead{n}@sheet.example", "first_name": f"Lead{n}", "last_name": "Sheet", "phone": ""}
    row.update(changes)
    return [row[c] for c in HEADER]


def csv_bytes(
    rows: list[list[Any]], *, header: list[str] = HEADER, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, header: list[str] = HEADER) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_config(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": url, "key_column": "email", **overrides}


async def make_sheet_bundle(
    client: httpx.AsyncClient, target_id: str, url: str, *, start: bool = True, **config: Any
) -> str:
    """A `sheet_url` bundle, running unless `start` is False (no source connection: the link is all it needs)."""
    source = {"app": "sheet_url", "trigger": "new_rows", "config": sheet_config(url, **config)}
    return await make_polling_bundle(client, target_id, source, start=start)
