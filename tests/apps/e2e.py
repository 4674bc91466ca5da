"""The end-to-end run of a source app: its recorded requests through the real gateway, a real
worker and the sandbox, on a bundle made through the public API.

`AppCase` says what an app's run expects; `run_app_case` plays the run the same way for every app:
1. a bundle for the app (its labelled fields mapped to Contact columns), started;
2. the app's test request, answered as the sender needs: history shows `test`, the sandbox was not
   called at all;
3. the documented payload, signed as the vendor signs it: the worker creates the contact with the
   mapped values;
4. the same request again: answered, no second contact (the sender's id, or the bundle's duplicate
   rule where the app has no id);
5. the payload with a wrong signature: 401, nothing stored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from bpmlink_worker.main import build_worker
from sqlalchemy import func, select

from bpmlink.catalog import APPS
from bpmlink.catalog.model import Verification, WebhookRules
from bpmlink.db.models import Event
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import BodySizeLimit
from tests.apps.recorded import Recorded, load
from tests.fixtures.pipeline import sandbox_rows

SECRET = "app-secret-for-the-e2e-run-0123456789"
WRONG_SECRET = "not-the-secret-the-bundle-has-9876543210"
LOOPBACK = ("127.0.0.1", 51000)


@dataclass(frozen=True)
class Expected:
    """An answer as the sender needs it: status, and the body's text (None: not checked) or JSON."""

    status: int
    text: str | None = None
    json_keys: tuple[str, ...] = ()
    content_type: str | None = None

    def check(self, response: httpx.Response, what: str) -> None:
        assert response.status_code == self.status, f"{what}: {response.status_code} {response.text[:300]}"
        if self.text is not None:
            assert response.text == self.text, f"{what}: answered {response.text!r}"
        for key in self.json_keys:
            assert key in response.json(), f"{what}: no {key!r} in {response.text}"
        if self.content_type is not None:
            assert response.headers["content-type"].startswith(self.content_type), f"{what}: content type"


@dataclass(frozen=True)
class AppCase:
    app: str
    trigger: str
    payload: str  # the documented request (tests/apps/payloads/<app>/<payload>.json)
    mapping: list[dict[str, Any]]
    email: str  # the contact's e-mail after mapping (lower-cased)
    values: dict[str, str]  # further columns of the created contact
    answer: Expected
    test: str | None = None  # the app's test or handshake request, when it has one
    test_answer: Expected | None = None
    config: dict[str, Any] = field(default_factory=dict)
    dedup: dict[str, Any] = field(default_factory=lambda: {"mode": "always_create"})
    client: tuple[str, int] = LOOPBACK  # the sender's address (Yandex Forms: its IPv6 network)
    webhook_secret: str | None = SECRET

    @property
    def rules(self) -> WebhookRules:
        trigger = APPS[self.app].trigger(self.trigger)
        assert trigger is not None and trigger.webhook is not None
        return trigger.webhook

    @property
    def verification(self) -> Verification:
        return self.rules.verification

    @property
    def has_sender_id(self) -> bool:
        return self.rules.idempotency is not None

    def signed(self, name: str, secret: str | None = None) -> Recorded:
        return load(self.app, name).signed(secret or self.webhook_secret or "")

    def wrong(self, name: str) -> tuple[Recorded, tuple[str, int]]:
        """The request as someone without the secret sends it (address check: from elsewhere)."""
        if self.verification.mode == "address":
            return load(self.app, name), LOOPBACK
        return self.signed(name, WRONG_SECRET), self.client


@asynccontextmanager
async def gateway_client(settings: Settings, address: tuple[str, int]) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway app (as its process wraps it), reached from `address`."""
    from bpmlink_gateway.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=BodySizeLimit(app, settings.max_request_bytes), client=address)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


async def drain(settings: Settings) -> None:
    """Run a worker until the queue is empty (what the gateway enqueued is processed)."""
    worker = build_worker(settings, burst=True, poll_delay=0.05, cron_jobs=[])
    try:
        await worker.main()
    finally:
        await worker.close()


async def count_events(sessionmaker: Any, bundle_id: str) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).select_from(Event).where(Event.bundle_id == uuid.UUID(bundle_id))
        return int(await session.scalar(query) or 0)


async def statuses(client: httpx.AsyncClient, bundle_id: str) -> list[str]:
    response = await client.get(f"/api/v1/bundles/{bundle_id}/operations")
    assert response.status_code == 200, response.text
    return [o["status"] for o in response.json()["items"]]


async def make_app_bundle(client: httpx.AsyncClient, connection_id: str, case: AppCase) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"{case.app} → Contacts",
        "source": {"app": case.app, "trigger": case.trigger, "config": case.config},
        "target": {"connection_id": connection_id, "action": "create_record", "entity": "Contact"},
        "mapping": case.mapping,
        "dedup": case.dedup,
    }
    if case.webhook_secret:
        body["webhook_secret"] = case.webhook_secret
    created = await client.post("/api/v1/bundles", json=body)
    assert created.status_code == 201, created.text
    started = await client.post(f"/api/v1/bundles/{created.json()['id']}/start")
    assert started.status_code == 200, started.text
    return dict(started.json())


def hook_path(bundle: dict[str, Any]) -> str:
    return "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]


async def send(http: httpx.AsyncClient, path: str, request: Recorded) -> httpx.Response:
    return await http.request(url=path, **request.send_kwargs())


async def run_app_case(
    case: AppCase,
    *,
    client: httpx.AsyncClient,
    connection_id: str,
    sandbox: Any,
    sessionmaker: Any,
    settings: Settings,
    secret_of: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """The five steps of the module docstring; `secret_of` gives the secret when bpmlink chose it."""
    bundle = await make_app_bundle(client, connection_id, case)
    path = hook_path(bundle)
    secret = secret_of(bundle) if secret_of else case.webhook_secret
    sandbox_calls = sandbox.counts()["total"]

    async with gateway_client(settings, case.client) as http:
        if case.test is not None:
            assert case.test_answer is not None
            response = await send(http, path, case.signed(case.test, secret))
            case.test_answer.check(response, f"{case.app} test request")
            await drain(settings)
            assert await statuses(client, bundle["id"]) == ["test"]
            assert sandbox.counts()["total"] == sandbox_calls, "a test request reached bpm'online"

        request = case.signed(case.payload, secret)
        response = await send(http, path, request)
        case.answer.check(response, f"{case.app} payload")
        await drain(settings)
        rows = sandbox_rows(sandbox, "Contact", f"Email eq '{case.email}'")
        assert len(rows) == 1, f"{case.app}: {len(rows)} contacts with {case.email}"
        for column, value in case.values.items():
            assert rows[0][column] == value, f"{case.app}: {column} = {rows[0][column]!r}, not {value!r}"

        stored = await count_events(sessionmaker, bundle["id"])
        again = await send(http, path, case.signed(case.payload, secret))
        case.answer.check(again, f"{case.app} resend")
        await drain(settings)
        assert len(sandbox_rows(sandbox, "Contact", f"Email eq '{case.email}'")) == 1, f"{case.app}: a second contact"
        if case.has_sender_id:
            assert await count_events(sessionmaker, bundle["id"]) == stored, f"{case.app}: the resend was stored"

        if case.verification.mode != "none":
            stored = await count_events(sessionmaker, bundle["id"])
            forged, address = case.wrong(case.payload)
            async with gateway_client(settings, address) as elsewhere:
                refused = await send(elsewhere, path, forged)
            assert refused.status_code == 401, f"{case.app} wrong signature: {refused.status_code} {refused.text}"
            assert await count_events(sessionmaker, bundle["id"]) == stored, f"{case.app}: a forged request was stored"
