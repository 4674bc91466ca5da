"""http_polling's answer handling on httpx.MockTransport: next links, auth in the query, failures."""

from __future__ import annotations

import httpx
import pytest

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit.settings import Settings
from bpmlink.sources import FetchEnv, PermanentSourceError, SourceConnection, TransientSourceError
from bpmlink.sources.http_polling import HttpPollingSource

BASE = "https://api.example.com/v1"
CONFIG = {"path": "/items", "items_path": "items", "id_field": "id", "cursor_field": "n", "next_field": "next"}


def _fetch(handler, cursor=None, config=CONFIG, params=None):
    conn = SourceConnection(
        id="c",
        app="http_polling",
        params=params or {"base_url": BASE, "auth_query_param": "api_key"},
        secrets={"auth_value": "s3cret-key"},
    )
    recorder = StepRecorder(system="http_polling")
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    env = FetchEnv(settings=Settings(BPMLINK_ENV="test"))

    async def run():
        try:
            return await HttpPollingSource().fetch(conn, config, cursor, 2, recorder, env, http=http), recorder
        finally:
            await http.aclose()

    return run()


async def test_next_links_are_followed_and_the_key_in_the_query_is_redacted():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["api_key"] == "s3cret-key"
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json={"items": [{"id": "c", "n": 3}], "next": None})
        return httpx.Response(200, json={"items": [{"id": "a", "n": 1}, {"id": "b", "n": 2}], "next": "?page=2"})

    page, recorder = await _fetch(handler)
    assert [k for k, _ in page.items] == ["a", "b"] and page.more
    assert page.next_cursor == {"value": 2, "id": "b", "next": f"{BASE}/items?page=2"}
    assert "s3cret-key" not in recorder.steps[0].url and "api_key=%5Bredacted%5D" in recorder.steps[0].url
    last, _ = await _fetch(handler, cursor=page.next_cursor)
    assert [k for k, _ in last.items] == ["c"] and not last.more and last.next_cursor == {"value": 3, "id": "c"}


async def test_a_next_link_to_another_host_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": "a", "n": 1}], "next": "https://evil.example/steal"})

    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(handler)
    assert caught.value.code == "foreign_next_link"


@pytest.mark.parametrize(
    ("response", "kind", "code"),
    [
        (httpx.Response(429, json={}), TransientSourceError, "http_429"),
        (httpx.Response(502, text="bad gateway"), TransientSourceError, "http_502"),
        (httpx.Response(403, json={"error": "no"}), PermanentSourceError, "http_403"),
        (httpx.Response(200, text="<html>login</html>"), PermanentSourceError, "not_json"),
        (httpx.Response(200, json={"data": []}), PermanentSourceError, "bad_items_path"),
        (httpx.Response(200, json={"items": [{"n": 1}]}), PermanentSourceError, "no_item_id"),
    ],
)
async def test_failures_are_classified(response, kind, code):
    with pytest.raises(kind) as caught:
        await _fetch(lambda request: response)
    assert caught.value.code == code and caught.value.steps  # the failing request is kept


async def test_old_items_from_an_api_that_ignores_the_cursor_are_skipped():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": i, "n": i} for i in range(1, 5)]})

    config = {**CONFIG, "next_field": "", "cursor_param": "since"}
    page, _ = await _fetch(handler, cursor={"value": 3, "id": 3}, config=config)
    assert [k for k, _ in page.items] == ["3", "4"]  # the equal one passes; the unique key absorbs it


@pytest.mark.parametrize("mode", ["page", "offset"])
async def test_position_paging_asks_a_partial_page_again_and_moves_on_when_it_fills(mode):
    rows = [{"id": i, "n": i} for i in range(1, 6)]

    def handler(request: httpx.Request) -> httpx.Response:
        if mode == "page":
            start = (int(request.url.params["p"]) - 1) * 2
        else:
            start = int(request.url.params["skip"])
        return httpx.Response(200, json={"items": rows[start : start + 2]})

    config = {"path": "/items", "items_path": "items", "id_field": "id", "limit_param": "limit"}
    config |= {"page_param": "p"} if mode == "page" else {"offset_param": "skip"}
    cursor, seen = None, []
    for _ in range(3):
        page, _ = await _fetch(handler, cursor=cursor, config=config)
        seen += [k for k, _ in page.items]
        cursor = page.next_cursor
    assert seen == ["1", "2", "3", "4", "5"] and not page.more
    rows.append({"id": 6, "n": 6})
    page, _ = await _fetch(handler, cursor=cursor, config=config)
    # The partial page again: 5 once more (stored once by its key) and the new 6.
    expected = ["5", "6"] if mode == "page" else ["6"]
    assert [k for k, _ in page.items] == expected
