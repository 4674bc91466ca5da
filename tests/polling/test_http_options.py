"""http_polling request options against the test's own JSON API: method, headers, auth kinds, JMESPath."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from bpmlink_worker.polling import run_poll
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Event, Operation, Step
from bpmlink.kit.embedded import free_port
from bpmlink.sources import FetchEnv, PermanentSourceError, SourceConnection
from bpmlink.sources.http_polling import HttpPollingSource
from tests.polling.conftest import make_connection, make_polling_bundle

TOKEN = "tok-0123456789-secret"
RECORDS = [
    {"id": 1, "email": "a@opts.example", "active": True, "n": 1},
    {"id": 2, "email": "b@opts.example", "active": False, "n": 2},
    {"id": 3, "email": "c@opts.example", "active": True, "n": 3},
]


class Api:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.base_url = ""


def _app(api: Api) -> FastAPI:
    app = FastAPI()

    @app.api_route("/records", methods=["GET", "POST"])
    async def records(request: Request) -> JSONResponse:
        raw = await request.body()
        api.requests.append(
            {
                "method": request.method,
                "headers": dict(request.headers),
                "query": dict(request.query_params),
                "body": json.loads(raw) if raw else None,
            }
        )
        after = int((json.loads(raw) if raw else {}).get("after") or request.query_params.get("after") or 0)
        rows = [r for r in RECORDS if r["n"] > after]
        return JSONResponse({"result": {"records": rows, "total": len(rows)}})

    return app


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    state = Api()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(state), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="options-api")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test API did not start"
        time.sleep(0.02)
    state.base_url = f"http://127.0.0.1:{port}"
    yield state
    server.should_exit = True
    thread.join(5)


async def _fetch(
    settings, api: Api, params: dict[str, Any], secrets: dict[str, Any], config: dict[str, Any], cursor=None
):
    api.requests.clear()
    conn = SourceConnection(id="c", app="http_polling", params={"base_url": api.base_url, **params}, secrets=secrets)
    recorder = StepRecorder(system="http_polling")
    page = await HttpPollingSource().fetch(conn, config, cursor, 10, recorder, FetchEnv(settings=settings))
    return page, recorder.steps[0], api.requests[-1]


BASE_CONFIG = {"path": "/records", "items_path": "result.records", "id_field": "id", "cursor_field": "n"}


@pytest.mark.parametrize(
    ("params", "secrets", "expect_header", "expect_query"),
    [
        ({"auth": "none"}, {"auth_value": TOKEN}, None, None),
        ({"auth": "bearer"}, {"auth_value": TOKEN}, ("authorization", f"Bearer {TOKEN}"), None),
        (
            {"auth": "basic", "username": "ann"},
            {"password": TOKEN},
            ("authorization", "Basic " + base64.b64encode(f"ann:{TOKEN}".encode()).decode()),
            None,
        ),
        ({"auth": "api_key_header", "auth_header": "X-Api-Key"}, {"auth_value": TOKEN}, ("x-api-key", TOKEN), None),
        ({"auth": "api_key_query", "auth_query_param": "key"}, {"auth_value": TOKEN}, None, ("key", TOKEN)),
        ({"auth_header": "X-Legacy"}, {"auth_value": TOKEN}, ("x-legacy", TOKEN), None),  # saved before `auth`
    ],
    ids=["none", "bearer", "basic", "api-key-header", "api-key-query", "legacy-header"],
)
async def test_each_auth_kind_is_sent_and_redacted_in_the_step(
    settings, api, params, secrets, expect_header, expect_query
):
    page, step, request = await _fetch(settings, api, params, secrets, BASE_CONFIG)
    assert [key for key, _ in page.items] == ["1", "2", "3"]
    sent_secret = json.dumps(request)
    if expect_header:
        assert request["headers"][expect_header[0]] == expect_header[1]
        assert step.request_headers[expect_header[0]] == "[redacted]"
    if expect_query:
        assert request["query"][expect_query[0]] == expect_query[1]
        assert "[redacted]" in step.url or "%5Bredacted%5D" in step.url
    if not expect_header and not expect_query:
        assert TOKEN not in sent_secret and "authorization" not in request["headers"]
    step_text = json.dumps([step.url, step.request_headers, step.request_body, step.response_body])
    assert TOKEN not in step_text and base64.b64encode(f"ann:{TOKEN}".encode()).decode() not in step_text


async def test_post_with_a_body_extra_headers_and_a_jmespath_items_path(settings, api):
    config = {
        **BASE_CONFIG,
        "method": "POST",
        "body": {"filter": {"kind": "lead"}},
        "cursor_param": "after",
        "limit_param": "size",
        "items_path": "result.records[?active]",
        "headers": {"X-Trace": "poll"},
    }
    params = {"auth": "bearer", "headers": {"X-Tenant": "acme", "X-Trace": "conn"}}
    page, step, request = await _fetch(settings, api, params, {"auth_value": TOKEN}, config, cursor={"value": 0})
    assert request["method"] == "POST" and request["query"] == {}
    assert request["body"] == {"filter": {"kind": "lead"}, "after": 0, "size": 10}  # typed values in the body
    assert request["headers"]["x-tenant"] == "acme" and request["headers"]["x-trace"] == "poll"  # the trigger wins
    assert [key for key, _ in page.items] == ["1", "3"]  # the JMESPath filter kept the active ones
    assert page.next_cursor == {"value": 3, "id": 3}
    assert step.method == "POST" and step.request_headers["x-tenant"] == "acme"

    # A dotted path with a list index still works; so does a JMESPath projection.
    dotted, _, _ = await _fetch(settings, api, {}, {}, {**BASE_CONFIG, "items_path": "result.records"})
    assert len(dotted.items) == 3
    projected, _, _ = await _fetch(
        settings, api, {}, {}, {**BASE_CONFIG, "items_path": "result.records[*].{id: id, n: n, mail: email}"}
    )
    assert projected.items[0][1] == {"id": 1, "n": 1, "mail": "a@opts.example"}


@pytest.mark.parametrize(
    ("params", "secrets", "config", "message"),
    [
        ({}, {}, {**BASE_CONFIG, "items_path": "result.records[?"}, "JMESPath"),
        ({}, {}, {**BASE_CONFIG, "items_path": "result.total"}, "no list of items"),
        ({}, {}, {**BASE_CONFIG, "method": "DELETE"}, "GET or POST"),
        ({"auth": "bearer"}, {}, BASE_CONFIG, "auth_value"),
        ({"auth": "basic"}, {"password": "x"}, BASE_CONFIG, "username"),
        ({"auth": "kerberos"}, {}, BASE_CONFIG, "unknown auth"),
        ({"headers": {"Host": "evil.example"}}, {}, BASE_CONFIG, "cannot be set"),
        ({"headers": {"X-Bad": "a\r\nX-Injected: 1"}}, {}, BASE_CONFIG, "one-line"),
        ({"headers": ["X-A: b"]}, {}, BASE_CONFIG, "JSON object"),
    ],
)
async def test_bad_options_fail_as_configuration_errors(settings, api, params, secrets, config, message):
    with pytest.raises(PermanentSourceError) as caught:
        await _fetch(settings, api, params, secrets, config)
    assert message in caught.value.message


@pytest.mark.usefixtures("_clean_tables")
async def test_a_basic_auth_connection_through_the_api_polls_and_keeps_the_password_out_of_history(
    client, deps, sessionmaker, connection_id, api
):
    params = {"base_url": api.base_url, "auth": "basic", "username": "ann", "headers": {"X-Tenant": "acme"}}
    http_id = await make_connection(client, "http_polling", params, {"password": TOKEN})
    shown = (await client.get(f"/api/v1/connections/{http_id}")).json()
    assert TOKEN not in json.dumps(shown) and "password" in shown["secrets_set"]
    source = {
        "app": "http_polling",
        "connection_id": http_id,
        "trigger": "new_items",
        "config": {**BASE_CONFIG, "method": "POST", "cursor_param": "after", "items_path": "result.records[?active]"},
    }
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(deps, uuid.UUID(bundle_id))
    assert result.stored == 2
    assert api.requests[-1]["headers"]["authorization"].startswith("Basic ")
    async with sessionmaker() as session:
        steps = list(
            await session.scalars(
                select(Step)
                .join(Operation, Operation.id == Step.operation_id)
                .join(Event, Event.id == Operation.event_id)
                .where(Event.bundle_id == uuid.UUID(bundle_id))
            )
        )
    assert steps and all(s.method == "POST" and s.request_headers["authorization"] == "[redacted]" for s in steps)
    assert all(TOKEN not in json.dumps([s.url, s.request_headers, s.request_body]) for s in steps)
