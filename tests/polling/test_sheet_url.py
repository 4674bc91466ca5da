"""sheet_url reading a published file from a local stand-in: CSV dialects, XLSX, redirects, and bad links
failing with their code — at fetch and when the bundle is saved."""

from __future__ import annotations

from typing import Any

import pytest

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.sources import FetchEnv, Page, PermanentSourceError, TransientSourceError, no_connection
from bpmlink.sources import sheet_url as sheet_module
from bpmlink.sources.sheet_url import SheetUrlSource
from tests.fixtures.pipeline import bundle_body
from tests.fixtures.published_sheet import XLSX, Answer
from tests.polling.sheets import PAYLOADS, csv_bytes, lead, sheet_config, xlsx_bytes

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def sample(settings, url: str, limit: int = 10, **config: Any) -> tuple[Page, StepRecorder]:
    """A fetch outside a poll (as the wizard's sample): the first rows, no state."""
    recorder = StepRecorder(system="sheet_url")
    page = await SheetUrlSource().fetch(
        no_connection("sheet_url"), sheet_config(url, **config), None, limit, recorder, FetchEnv(settings)
    )
    return page, recorder


async def failure(settings, url: str, **config: Any) -> PermanentSourceError:
    with pytest.raises(PermanentSourceError) as caught:
        await sample(settings, url, **config)
    return caught.value


async def test_the_recorded_csv_with_a_bom_semicolons_and_a_quoted_line_break_is_read(settings, published_sheet):
    url = published_sheet.publish("/leads.csv", (PAYLOADS / "leads.csv").read_bytes())
    page, recorder = await sample(settings, url)
    assert [key for key, _ in page.items] == ["anna@sheet.example", "boris@sheet.example"]
    anna = page.items[0][1]
    assert anna == {
        "_row": 1,
        "email": "anna@sheet.example",  # the BOM is not part of the first column's name
        "first_name": "Анна",
        "last_name": "Смирнова",
        "phone": "+7 912 345-67-89",
        "note": "перезвонить\r\nпосле обеда",
    }
    get, parse = recorder.steps
    assert (get.method, get.status, get.url) == ("GET", 200, url)
    assert parse.method == "PARSE" and '"skipped_empty_key": 1' in (parse.response_body or "")


@pytest.mark.parametrize("encoding_field", ["auto", "windows-1251"])
async def test_a_windows_1251_csv_is_decoded(settings, published_sheet, encoding_field):
    body = csv_bytes([lead(1, first_name="Ёлка"), lead(2, last_name="Щукин")], delimiter=";", encoding="cp1251")
    url = published_sheet.publish("/cp1251.csv", body, content_type="text/csv")
    page, _ = await sample(settings, url, encoding=encoding_field)
    assert [item["first_name"] for _, item in page.items] == ["Ёлка", "Lead2"]
    assert page.items[1][1]["last_name"] == "Щукин"


async def test_the_delimiter_and_the_header_row_can_be_given(settings, published_sheet):
    # Two lines above the header; a header with more commas than pipes would be sniffed as comma-separated.
    body = "Exported from the CRM\r\n\r\nemail|name, as typed, in full\r\nlead1@sheet.example|Lead, One\r\n"
    url = published_sheet.publish("/pipes.csv", body.encode())
    page, _ = await sample(settings, url, delimiter="|", header_row=3)
    assert page.items[0][1] == {"_row": 1, "email": "lead1@sheet.example", "name, as typed, in full": "Lead, One"}
    assert (await failure(settings, url, header_row=3)).code == "sheet_key_column_missing"  # sniffed: ","
    assert (await failure(settings, url, delimiter="|")).code == "sheet_key_column_missing"  # header row 1


async def test_an_xlsx_built_with_openpyxl_is_read_with_numbers_as_typed(settings, published_sheet):
    url = published_sheet.publish("/leads.xlsx", xlsx_bytes([lead(1, phone=79123456789), lead(2)]), XLSX)
    page, _ = await sample(settings, url)
    assert [key for key, _ in page.items] == ["lead1@sheet.example", "lead2@sheet.example"]
    assert page.items[0][1]["phone"] == 79123456789 and page.items[0][1]["_row"] == 1


async def test_a_redirect_is_followed_as_google_redirects_a_published_link(settings, published_sheet):
    target = published_sheet.publish("/googleusercontent/export", csv_bytes([lead(1)]))
    url = published_sheet.redirect("/spreadsheets/d/e/2PACX-1/pub", target + "?output=csv")
    page, recorder = await sample(settings, url + "?gid=0&single=true&output=csv")
    assert [key for key, _ in page.items] == ["lead1@sheet.example"]
    assert recorder.steps[0].url == target + "?output=csv"  # the step shows where the file came from
    assert published_sheet.requests == [
        "/spreadsheets/d/e/2PACX-1/pub?gid=0&single=true&output=csv",
        "/googleusercontent/export?output=csv",
    ]


async def test_a_redirect_to_a_private_address_is_refused_by_the_guard(settings, published_sheet):
    url = published_sheet.redirect("/evil", "http://10.11.12.13/latest/meta-data")
    error = await failure(settings, url)
    assert error.code == "blocked_address" and "10.11.12.13" in error.message
    assert len(published_sheet.requests) == 1  # nothing was sent to the private address


async def test_a_link_that_redirects_in_a_loop_stops(settings, published_sheet):
    url = published_sheet.redirect("/loop", "/loop")
    assert (await failure(settings, url)).code == "sheet_too_many_redirects"


async def test_an_unpublished_google_sheet_answers_html_and_fails_as_not_csv(settings, published_sheet):
    page = b"<!DOCTYPE html><html><head><title>Google Sheets: Sign-in</title></head></html>"
    url = published_sheet.answer("/edit", Answer(content_type="text/html; charset=utf-8", body=page))
    error = await failure(settings, url)
    assert error.code == "sheet_not_csv" and "publish the sheet" in error.message
    assert error.steps and error.steps[0].status == 200


async def test_a_missing_file_fails_as_not_found(settings, published_sheet):
    error = await failure(settings, published_sheet.base_url + "/nothing-here.csv")
    assert (error.code, error.params) == ("sheet_not_found", {"status": 404, "field": "url"})


async def test_a_file_over_the_size_limit_fails_without_being_read_whole(settings, published_sheet, monkeypatch):
    monkeypatch.setattr(sheet_module, "MAX_BYTES", 1024 * 1024)
    url = published_sheet.publish("/huge.csv", csv_bytes([lead(n) for n in range(40_000)]))  # ~1.6 MB
    error = await failure(settings, url)
    assert error.code == "sheet_too_large" and error.steps


async def test_a_site_too_slow_to_answer_fails_as_a_timeout_retried_later(settings, published_sheet, monkeypatch):
    monkeypatch.setattr(sheet_module, "TOTAL_SECONDS", 0.3)
    url = published_sheet.answer("/slow.csv", Answer(body=csv_bytes([lead(1)]), delay=2))
    with pytest.raises(TransientSourceError) as caught:
        await sample(settings, url)
    assert caught.value.code == "sheet_timeout" and caught.value.steps


async def test_a_broken_xlsx_fails_as_bad_xlsx(settings, published_sheet):
    url = published_sheet.publish("/broken.xlsx", b"PK\x03\x04 this is not really a workbook", XLSX)
    assert (await failure(settings, url)).code == "sheet_bad_xlsx"


async def test_a_missing_key_column_is_named_with_the_columns_there_are(settings, published_sheet):
    url = published_sheet.publish("/leads.csv", csv_bytes([lead(1)]))
    error = await failure(settings, url, key_column="E-mail")
    assert error.code == "sheet_key_column_missing"
    assert error.params == {
        "field": "key_column",
        "column": "E-mail",
        "columns": ["email", "first_name", "last_name", "phone"],
    }


async def test_saving_a_bundle_checks_the_link_and_the_key_column(client, connection_id, published_sheet):
    url = published_sheet.publish("/leads.csv", csv_bytes([lead(1)]))

    async def save(config: dict[str, Any]) -> Any:
        source = {"app": "sheet_url", "trigger": "new_rows", "config": config}
        return await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=source))

    missing = await save(sheet_config(url, key_column="Phone number"))
    assert missing.status_code == 422, missing.text
    [problem] = missing.json()["error"]["details"]
    assert (problem["field"], problem["code"]) == ("source.config.key_column", "sheet_key_column_missing")
    assert problem["params"]["column"] == "Phone number"
    html = await save(sheet_config(published_sheet.answer("/edit", Answer(content_type="text/html", body=b"<html>"))))
    assert html.status_code == 422 and html.json()["error"]["details"][0]["code"] == "sheet_not_csv"
    assert html.json()["error"]["details"][0]["field"] == "source.config.url"
    saved = await save(sheet_config(url))
    assert saved.status_code == 201, saved.text
    assert saved.json()["source"].get("connection_id") is None


async def test_the_wizard_fetches_a_sample_without_a_connection(client, connection_id, published_sheet):
    from tests.polling.sheets import make_sheet_bundle

    url = published_sheet.publish("/leads.csv", csv_bytes([lead(7), lead(8)]))
    bundle_id = await make_sheet_bundle(client, connection_id, url)
    response = await client.post(f"/api/v1/bundles/{bundle_id}/sample", json={"fetch": True})
    assert response.status_code == 200, response.text
    assert response.json()["sample"] == {
        "_row": 1,
        **dict(zip(["email", "first_name", "last_name", "phone"], lead(7), strict=True)),
    }
