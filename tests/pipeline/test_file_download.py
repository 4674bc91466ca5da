"""Downloading an event's file link (bpmlink/pipeline/file_download.py) from a stand-in site on 127.0.0.1:
the size limit at and over it (declared, undeclared, lying, endless), the time limit, redirects and the
address guard on every hop, the name from Content-Disposition or the URL, the type, and the errors' shape."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from bpmlink.kit.settings import Settings
from bpmlink.pipeline.file_download import Downloaded, DownloadError, clean_name, download, name_from_disposition
from tests.bpmonline.fakes import settings as make_settings
from tests.fixtures.file_server import FileServerStandIn

LIMIT = 1024 * 1024


@pytest.fixture
def allowed(file_server: FileServerStandIn) -> Settings:
    """The stand-in's own address (with its port) allowed, nothing else private."""
    return make_settings(BPMLINK_OUTBOUND_ALLOW_HOSTS=file_server.base_url.removeprefix("http://"))


async def fetch(server: FileServerStandIn, path: str, settings: Settings, **kw: float) -> Downloaded:
    return await download(server.url(path), max_bytes=int(kw.pop("max_bytes", LIMIT)), settings=settings, **kw)


async def refused(server: FileServerStandIn, path: str, settings: Settings, **kw: float) -> DownloadError:
    with pytest.raises(DownloadError) as caught:
        await fetch(server, path, settings, **kw)
    return caught.value


async def test_a_file_of_exactly_the_limit_downloads(file_server, allowed):
    got = await fetch(file_server, f"/bytes/{LIMIT}", allowed)
    assert len(got.data) == LIMIT and got.data == b"x" * LIMIT


async def test_a_declared_length_over_the_limit_is_refused_before_the_body(file_server, allowed):
    started = time.monotonic()
    err = await refused(file_server, f"/bytes/{20 * LIMIT}?wait=3", allowed, timeout=10)
    assert time.monotonic() - started < 2  # refused on the headers: the body (sent after 3 s) was not awaited
    assert err.code == "file_too_large" and not err.transient
    assert err.params == {"max_bytes": LIMIT, "max_mb": 1}
    assert (await refused(file_server, f"/bytes/{LIMIT + 1}", allowed)).code == "file_too_large"


async def test_a_body_without_content_length_is_cut_at_the_limit(file_server, allowed):
    assert len((await fetch(file_server, f"/unsized/{LIMIT}", allowed)).data) == LIMIT
    err = await refused(file_server, f"/unsized/{LIMIT + 1}", allowed)
    assert err.code == "file_too_large"


async def test_an_endless_body_is_cut_at_the_limit(file_server, allowed):
    started = time.monotonic()
    err = await refused(file_server, "/endless", allowed, timeout=20)
    assert err.code == "file_too_large" and time.monotonic() - started < 10


async def test_a_lying_content_length_under_the_limit_lets_no_more_through(file_server, allowed):
    got = await fetch(file_server, f"/claims/100/{5 * LIMIT}", allowed)
    assert len(got.data) == 100  # what was declared, not the 5 MB that followed


async def test_a_slow_site_hits_the_total_time_limit(file_server, allowed):
    started = time.monotonic()
    err = await refused(file_server, "/drip", allowed, timeout=1.0)
    assert err.code == "file_timeout" and err.transient and err.params == {"seconds": 1.0}
    assert time.monotonic() - started < 3  # one limit for the whole download, not per dripped byte


async def test_a_site_that_never_answers_times_out(file_server, allowed):
    err = await refused(file_server, "/silent", allowed, timeout=0.5)
    assert err.code == "file_timeout" and err.transient


@pytest.mark.parametrize(
    ("status", "transient"),
    [(404, False), (403, False), (410, False), (500, True), (503, True), (429, True), (408, True)],
)
async def test_http_statuses(file_server, allowed, status, transient):
    err = await refused(file_server, f"/status/{status}", allowed)
    assert err.code == "file_http_status" and err.params == {"status": status} and err.transient is transient


async def test_redirects_are_followed_up_to_five(file_server, allowed):
    assert (await fetch(file_server, "/hops/5", allowed)).data == b"end"
    err = await refused(file_server, "/hops/6", allowed)
    assert err.code == "file_too_many_redirects" and not err.transient


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x",
        "http://localhost:{port}/bytes/5",
        "http://[::1]:{port}/bytes/5",
    ],
)
async def test_a_redirect_to_a_private_address_is_refused(file_server, allowed, target):
    port = file_server.base_url.rsplit(":", 1)[1]
    err = await refused(file_server, "/redirect?to=" + quote(target.format(port=port), safe=""), allowed, timeout=5)
    assert err.code == "file_blocked_address" and not err.transient
    assert err.params["host"] in ("169.254.169.254", "10.0.0.1", "localhost", "::1")
    assert file_server.requests == [file_server.requests[0]]  # the private target was never reached


async def test_the_site_itself_is_refused_without_the_allow_list(file_server):
    err = await refused(file_server, "/bytes/5", make_settings())
    assert err.code == "file_blocked_address" and err.params == {"host": "127.0.0.1"}
    assert file_server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.pdf",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "//example.com/a",
        "not a url",
        "",
    ],
)
async def test_bad_schemes_are_refused(url):
    with pytest.raises(DownloadError) as caught:
        await download(url, max_bytes=LIMIT, settings=make_settings())
    assert caught.value.code == "file_bad_url" and not caught.value.transient


async def test_a_redirect_to_another_scheme_is_refused(file_server, allowed):
    err = await refused(file_server, "/redirect?to=" + quote("file:///etc/passwd", safe=""), allowed)
    assert err.code == "file_bad_url"


async def test_an_unreachable_site_is_transient(allowed):
    with pytest.raises(DownloadError) as caught:
        await download(
            "http://127.0.0.1:1/x", max_bytes=LIMIT, settings=make_settings(BPMLINK_OUTBOUND_ALLOW_HOSTS="127.0.0.1")
        )
    assert caught.value.code == "file_unreachable" and caught.value.transient


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ("attachment; filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82%20%E2%84%961.pdf", "счёт №1.pdf"),
        ("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%D0%B0%D0%BA%D1%82.pdf", "акт.pdf"),
        ("attachment; filename*=utf-8'ru'%D0%B0.txt; filename=b.txt", "а.txt"),
        ("attachment; filename*=iso-8859-1''caf%E9.txt", "café.txt"),
        ('inline; filename="quoted \\"name\\".txt"', 'quoted "name".txt'),
        ("attachment; filename=plain.csv", "plain.csv"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\Users\\\\x\\\\evil.bat"', "evil.bat"),
        ("attachment; filename*=UTF-8''bad%FF.txt; filename=\"ok.txt\"", "ok.txt"),
    ],
)
async def test_the_name_comes_from_content_disposition(file_server, allowed, disposition, name):
    got = await fetch(file_server, "/bytes/3?cd=" + quote(disposition, safe=""), allowed)
    assert got.name == name


async def test_raw_utf8_in_a_plain_filename_is_read(file_server, allowed):
    got = await fetch(file_server, "/bytes/3?cd=" + quote('attachment; filename="договор.docx"', safe=""), allowed)
    assert got.name == "договор.docx"


async def test_without_a_disposition_the_name_is_the_last_path_segment(file_server, allowed):
    path = "/bytes/3/" + quote("Отчёт за май.xlsx")
    got = await fetch(file_server, path, allowed)
    assert got.name == "Отчёт за май.xlsx"
    assert (
        got.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )  # guessed: octet-stream said nothing


async def test_without_any_name_it_is_file(file_server, allowed):
    got = await fetch(file_server, "/redirect?to=" + quote("/hops/0/", safe=""), allowed)
    assert got.name == "file" and got.mime == "application/octet-stream"


async def test_the_declared_type_wins_over_the_name(file_server, allowed):
    got = await fetch(file_server, "/bytes/3/a.pdf?ct=" + quote("text/plain; charset=utf-8"), allowed)
    assert got.mime == "text/plain" and got.name == "a.pdf"


def test_names_are_sanitized():
    assert clean_name("a\x00b\x1f\x7fc.txt") == "abc.txt"
    assert clean_name("invoice\u202efdp.exe") == "invoicefdp.exe"  # no right-to-left override
    assert clean_name(" .. ") == "" and clean_name("dir/") == ""
    long = clean_name("я" * 300 + ".pdf")
    assert len(long.encode()) <= 255 and long.endswith(".pdf") and long.startswith("яя")
    assert len(clean_name("x" * 400).encode()) == 255


def test_a_disposition_without_a_name():
    assert name_from_disposition("attachment") is None
    assert name_from_disposition("") is None


def test_the_error_is_a_message():
    err = DownloadError("file_http_status", "the file's site answered HTTP 404", status=404)
    msg = err.message()
    assert (msg.code, msg.params, msg.text) == (
        "file_http_status",
        {"status": 404},
        "the file's site answered HTTP 404",
    )
    assert str(err) == err.text and err.transient is False
