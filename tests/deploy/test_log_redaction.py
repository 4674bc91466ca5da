"""Invariant 5 in the logs, on real log output: no tenant secret and no query-string credential is written.

- An http_polling connection with `auth: api_key_query` polls a real HTTP server with the services' log
  configuration: the key is not in the output, even with httpx's per-request INFO line switched back on.
- A tenant secret this process decrypted is redacted from any log line that quotes it (an error
  message echoing a password, say).
- The gateway as a real process: a key passed by mistake as `?key=`/`?access_token=` does not reach
  its access log.
"""

from __future__ import annotations

import io
import logging
import logging.config
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit.embedded import free_port
from bpmlink.kit.logs import logging_config
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings
from bpmlink.sources import FetchEnv, SourceConnection
from bpmlink.sources.http_polling import HttpPollingSource
from tests.fixtures.app import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
QUERY_KEY = "query-key-5f1e9c2a7d"
PASSWORD = "tenant-password-81b3"


@pytest.fixture(scope="module")
def source_url() -> Iterator[str]:
    """A JSON API that wants its key in the query string."""
    app = FastAPI()

    @app.get("/records")
    async def records(request: Request) -> dict[str, object]:
        assert request.query_params.get("apikey") == QUERY_KEY
        return {"records": [{"id": 1, "n": 1}]}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True, name="query-key-api")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test API did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def log_output(settings: Settings) -> Iterator[io.StringIO]:
    """The services' own log configuration, its handler writing here; the previous setup restored after."""
    root, names = logging.getLogger(), ("httpx", "httpcore", "uvicorn", "uvicorn.access", "uvicorn.error")
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in names})
    stream = io.StringIO()
    config = logging_config(settings.model_copy(update={"log_level": "INFO"}))
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


async def _poll(settings: Settings, source_url: str) -> None:
    box = SecretBox(settings)
    stored = box.encrypt({"auth_value": QUERY_KEY, "password": PASSWORD})  # as a connection row holds them
    conn = SourceConnection(
        id="c",
        app="http_polling",
        params={"base_url": source_url, "auth": "api_key_query", "auth_query_param": "apikey"},
        secrets=box.decrypt(stored),
    )
    config = {"path": "/records", "items_path": "records", "id_field": "id", "cursor_field": "n"}
    recorder = StepRecorder(system="http_polling")
    page = await HttpPollingSource().fetch(conn, config, None, 10, recorder, FetchEnv(settings))
    assert [key for key, _ in page.items] == ["1"]


async def test_a_query_string_api_key_is_not_logged_by_a_poll(
    settings: Settings, source_url: str, log_output: io.StringIO
) -> None:
    await _poll(settings, source_url)
    logging.getLogger("httpx").setLevel(logging.INFO)  # even when someone turns the request line back on
    await _poll(settings, source_url)
    output = log_output.getvalue()
    assert "HTTP Request: GET" in output and "apikey=***" in output
    assert QUERY_KEY not in output


async def test_a_decrypted_tenant_secret_is_redacted_from_any_line(
    settings: Settings, source_url: str, log_output: io.StringIO
) -> None:
    await _poll(settings, source_url)
    logging.getLogger("bpmlink.sources").warning("the source refused user ann with %s", PASSWORD)
    output = log_output.getvalue()
    assert "the source refused user ann with ***" in output and PASSWORD not in output


def test_query_values_do_not_reach_the_gateway_access_log(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "BPMLINK_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "BPMLINK_SECRET_KEY": TEST_SECRET_KEY,
        "BPMLINK_GATEWAY_PORT": str(port),
        "BPMLINK_LOG_FORMAT": "text",
    }
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bpmlink_gateway"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz?access_token={QUERY_KEY}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert httpx.post(f"{base}/hooks/unknown-token?key={PASSWORD}", json={}).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    output = log.read_text()
    assert '"GET /readyz?access_token=*** HTTP/1.1" 200' in output
    assert '"POST /hooks/***?key=*** HTTP/1.1" 404' in output
    assert QUERY_KEY not in output and PASSWORD not in output
