"""schemathesis against the real api process: cases generated from `/api/openapi.json`, sent with an API key.

No answer is a 5xx, and every error answer has the documented shape `{"error": {"code", "message", …}}`.
Bounded: a few examples per operation, operations that call out to other hosts are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.accounts import PASSWORD, make_workspace

from .conftest import Service

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 3
# Outbound calls to generated hosts (DNS, timeouts) would make the run slow and depend on the network.
SKIP = {("POST", "/api/v1/connections/{connection_id}/test"), ("POST", "/api/v1/auth/logout")}


async def test_no_5xx_and_every_error_in_the_documented_shape(
    sessionmaker: async_sessionmaker[AsyncSession],
    app: Any,
    service_env: dict[str, str],
    services: Callable[..., Service],
) -> None:
    owner = await make_workspace(sessionmaker, "Fuzz")
    api = services("bpmlink_api", service_env, "BPMLINK_API_PORT")
    await api.wait_ready()
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        assert (await http.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})).is_success
        created = await http.post("/api/v1/api-keys", json={"name": f"fuzz {uuid.uuid4().hex[:4]}"},
                                  headers={"X-CSRF-Token": http.cookies["bpmlink_csrf"]})
        key = created.json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_url(f"{api.base_url}/api/openapi.json")
    problems: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        tried += 1
        _fuzz(operation, auth, problems)
    assert tried >= 30, f"only {tried} operations in the OpenAPI document?"
    assert not problems, "\n".join(sorted(set(problems))[:30])


def _fuzz(operation: Any, auth: dict[str, str], problems: list[str]) -> None:
    """Send EXAMPLES generated cases of one operation (sync: the api is another process)."""

    @hsettings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=auth, timeout=30)
        label = f"{operation.method.upper()} {operation.path} → {response.status_code}"
        if response.status_code >= 500:
            problems.append(f"{label}: {response.text[:300]}")
        elif response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                problems.append(f"{label}: not JSON: {response.text[:200]}")
                return
            error = body.get("error") if isinstance(body, dict) else None
            if not (isinstance(error, dict) and error.get("code") and "message" in error and len(body) == 1):
                problems.append(f"{label}: not the error shape: {response.text[:200]}")

    run()
