"""A bundle's webhook request limit through the api: set, kept, cleared, refused out of range or without a
webhook, shown with the default, and the refusals of the last 24 hours in the bundle's read."""

from __future__ import annotations

import time
import uuid

import redis.asyncio as aioredis

from bpmlink.hook_limits import HOUR_SECONDS, count_refusal
from tests.fixtures.pipeline import bundle_body, make_bundle

FIELD = "webhook_rate_per_minute"


async def test_the_limit_is_set_kept_and_cleared_without_a_new_config_version(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False, **{FIELD: 1200})
    assert (bundle[FIELD], bundle["webhook_rate_default_per_minute"], bundle["rate_limited_24h"]) == (1200, 6000, 0)
    url = f"/api/v1/bundles/{bundle['id']}"
    lowered = (await client.put(url, json=bundle_body(connection_id, **{FIELD: 120}))).json()
    assert (lowered[FIELD], lowered["config_version"]) == (120, 1)  # how fast a URL takes requests: no new version
    kept = (await client.put(url, json=bundle_body(connection_id, name="Renamed"))).json()
    assert (kept[FIELD], kept["config_version"]) == (120, 2)  # left out of the update: unchanged
    cleared = (await client.put(url, json=bundle_body(connection_id, **{FIELD: None}))).json()
    assert cleared[FIELD] is None and cleared["webhook_rate_default_per_minute"] == 6000
    assert (await client.get(url)).json()[FIELD] is None
    audit = (await client.get("/api/v1/audit", params={"entity_type": "bundle"})).json()["items"]
    assert [FIELD in e["details"].get("changed", []) for e in audit if e["action"] == "updated"] == [True, False, True]


async def test_a_limit_out_of_range_is_refused_with_its_code_and_bounds(client, owner, connection_id):
    for value in (59, 600_001, 0, -5):
        response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, **{FIELD: value}))
        assert response.status_code == 422, response.text
        [detail] = response.json()["error"]["details"]
        assert (detail["field"], detail["code"], detail["params"]) == (
            FIELD,
            "hook_rate_out_of_range",
            {"min": 60, "max": 600_000},
        )
    bundle = await make_bundle(client, connection_id, start=False)
    response = await client.put(f"/api/v1/bundles/{bundle['id']}", json=bundle_body(connection_id, **{FIELD: 10}))
    assert response.status_code == 422
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()[FIELD] is None
    for value in (60, 600_000):
        assert (await make_bundle(client, connection_id, start=False, **{FIELD: value}))[FIELD] == value


async def test_a_bundle_without_a_webhook_has_no_limit(client, owner, connection_id, sandbox):
    source = await client.post(
        "/api/v1/connections",
        json={
            "app": "http_polling",
            "name": "Shop",
            "params": {"base_url": sandbox.base_url, "auth_header": "X-Api-Key"},
            "secrets": {"auth_value": "api-key"},
        },
    )
    trigger = {"path": "/items", "items_path": "items", "id_field": "id"}
    polled = {"app": "http_polling", "connection_id": source.json()["id"], "trigger": "new_items", "config": trigger}
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=polled, **{FIELD: 600}))
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert (detail["field"], detail["code"]) == (FIELD, "hook_rate_not_webhook")
    bundle = (await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=polled))).json()
    assert (bundle[FIELD], bundle["webhook_rate_default_per_minute"]) == (None, None)


async def test_refusals_of_the_last_24_hours_show_in_the_read_and_the_list(client, owner, connection_id, redis_url):
    limited = await make_bundle(client, connection_id, start=False, **{FIELD: 60})
    quiet = await make_bundle(client, connection_id, start=False)
    redis = aioredis.Redis.from_url(redis_url)
    try:
        now = time.time()
        for at in (now, now, now - 23 * HOUR_SECONDS):  # counted: this hour and 23 hours back
            await count_refusal(redis, uuid.UUID(limited["id"]), now=at)
        await count_refusal(redis, uuid.UUID(limited["id"]), now=now - 25 * HOUR_SECONDS)  # over a day ago
    finally:
        await redis.aclose()
    assert (await client.get(f"/api/v1/bundles/{limited['id']}")).json()["rate_limited_24h"] == 3
    listed = {b["id"]: b["rate_limited_24h"] for b in (await client.get("/api/v1/bundles")).json()["items"]}
    assert listed == {limited["id"]: 3, quiet["id"]: 0}
