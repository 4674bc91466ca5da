"""`csv_import`: reading an uploaded CSV or XLSX file into items, one per row.

    info = inspect_file(filename, data)           # at upload: format, columns, first row; or ImportFileError
    for number, item in iter_rows(info.file_format, data): ...   # in the worker, streaming

CSV: a UTF-8 BOM (or UTF-16 BOM) is honoured, then UTF-8 is tried and windows-1251 is the fallback
(Excel in Russian locales saves CSV in it); the delimiter (`,` `;` or tab) is taken from the header
line. XLSX: the first worksheet, read with openpyxl in read-only mode (rows streamed, not loaded).
The first non-blank row is the header; its cells are the field names. Blank rows are skipped and do
not count, so row numbers (1 = the first data row) are stable across reruns of the same file.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from bpmlink.kit.json_values import jsonable

IMPORT_JOB = "import.run"
CSV_DELIMITERS = (",", ";", "\t")
_CSV_EXTENSIONS = {"", ".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
# A single CSV field may be large (addresses, notes), but not unbounded.
csv.field_size_limit(min(sys.maxsize, 10 * 1024 * 1024))


def import_job_id(import_id: object) -> str:
    return f"import:{import_id}"


def row_key(import_id: object, number: int) -> str:
    """The event's source item key: a rerun of the same import stores each row once."""
    return f"import:{import_id}:{number}"


class ImportFileError(Exception):
    """A file that cannot be imported: status (400/413/415/422), a stable code and a message."""

    def __init__(self, message: str, *, status: int = 422, code: str = "bad_file") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True)
class FileInfo:
    file_format: str  # csv | xlsx
    columns: list[str]
    first_row: dict[str, Any] | None


def _not_supported(message: str) -> ImportFileError:
    return ImportFileError(message, status=415, code="unsupported_file")


def detect_format(filename: str, data: bytes) -> str:
    """`csv` or `xlsx` by content (the name only breaks ties); ImportFileError otherwise."""
    if not data.strip():
        raise ImportFileError("the file is empty", code="empty_file")
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _not_supported("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
    if suffix in _XLSX_EXTENSIONS:
        raise _not_supported(f"{filename!r} is not a valid XLSX file")
    if suffix not in _CSV_EXTENSIONS:
        raise _not_supported(f"{filename!r} is not a CSV or XLSX file")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _not_supported("the file is binary, not CSV text")
    return "csv"


def decode_text(data: bytes, encoding: str | None = None) -> str:
    """BOM first; then strict UTF-8; then windows-1251 (undefined bytes replaced, never an error).
    `encoding` (a codec name) is used as given instead, after a UTF-8 BOM."""
    if encoding:
        data = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
        return data.decode(encoding, errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def sniff_delimiter(text: str) -> str:
    """The candidate that splits the header line most often, counting outside quotes; `,` by default."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier candidate
    return best if counts[best] else ","


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel stores every number as a float: 42.0 is the 42 typed in
    return jsonable(value)


def _header(cells: list[Any]) -> list[str]:
    names = [str(c).strip() if c is not None else "" for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty columns (Excel's formatted-but-empty cells)
    if not names or any(not n for n in names):
        raise ImportFileError(
            "the first row must be a header naming every column (a column has no name)", code="no_header"
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ImportFileError(f"the header names a column twice: {', '.join(duplicates)}", code="no_header")
    if all(_looks_numeric(n) for n in names):
        raise ImportFileError("the first row looks like data, not a header of column names", code="no_header")
    return names


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ReadOptions:
    """How a file is read when its defaults do not fit (the `sheet_url` trigger lets the user say):
    the CSV delimiter and encoding (None: sniffed), and the row of the header (1: the first row;
    the rows above it are skipped)."""

    delimiter: str | None = None
    encoding: str | None = None
    header_row: int = 1


DEFAULT_OPTIONS = ReadOptions()


def _raw_rows(file_format: str, data: bytes, options: ReadOptions) -> Iterator[list[Any]]:
    rows = _all_raw_rows(file_format, data, options)
    for _ in range(options.header_row - 1):
        if next(rows, None) is None:
            return
    yield from rows


def _all_raw_rows(file_format: str, data: bytes, options: ReadOptions) -> Iterator[list[Any]]:
    if file_format == "csv":
        text = decode_text(data, options.encoding)
        delimiter = options.delimiter or sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:  # a NUL byte, an over-long field: the file, not the job, is at fault
            raise ImportFileError(f"line {reader.line_num} cannot be read as CSV: {exc}", code="bad_csv") from exc
        return
    import openpyxl  # imported here: only the import job and the upload check need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _not_supported(f"the file is not a readable XLSX workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportFileError("the workbook has no worksheet", code="empty_file")
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def iter_rows(
    file_format: str, data: bytes, options: ReadOptions = DEFAULT_OPTIONS
) -> Generator[tuple[int, dict[str, Any]]]:
    """(row number, item) for every non-blank row after the header; ImportFileError when there is none."""
    header: list[str] | None = None
    number = 0
    for cells in _raw_rows(file_format, data, options):
        if _blank(cells):
            continue
        if header is None:
            header = _header(cells)
            continue
        number += 1
        values = [_cell(c) for c in cells[: len(header)]]
        values += [""] * (len(header) - len(values))
        yield number, dict(zip(header, values, strict=True))
    if header is None:
        raise ImportFileError("the file has no rows", code="empty_file")


def inspect_file(filename: str, data: bytes) -> FileInfo:
    """Checked at upload, so the user hears at once about a file that cannot work."""
    file_format = detect_format(filename, data)
    rows = iter_rows(file_format, data)
    try:
        first = next(rows, None)
    finally:
        rows.close()
    if first is None:
        raise ImportFileError("the file has a header but no data rows", code="empty_file")
    return FileInfo(file_format=file_format, columns=list(first[1]), first_row=first[1])
