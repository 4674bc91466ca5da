"""The preview and the save bound user code as the worker does; the preview is rate-limited per user."""

import asyncio

from bpmlink_api.bundles.preview_limit import PREVIEWS_PER_WINDOW

from bpmlink.mapping.budget import MAX_RULES
from tests.fixtures.pipeline import bundle_body, make_bundle

# Ten seconds and more of template work, stopped only by the budget.
LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"
SAMPLE = {"first_name": "Ann", "email": "ann@example.com"}


def _lookahead(path: str = "email") -> dict:
    return {"join": "and", "conditions": [{"field": path, "op": "matches", "value": "(?=ann)a"}]}


async def test_a_pattern_without_a_linear_algorithm_is_refused_at_save(client, owner, connection_id):
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, filter=_lookahead()))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    [detail] = error["details"]
    assert detail["field"] == "filter.conditions[0].value"
    assert "is not supported" in detail["message"] and "lookarounds" in detail["message"]


async def test_a_mapping_over_the_rule_cap_is_refused_at_save(client, owner, connection_id):
    rules = [{"target": f"Usr{i}", "constant": "x"} for i in range(MAX_RULES + 1)]
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, mapping=rules))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0] == {
        "field": "steps.0.mapping",
        "loc": ["body", "steps", 0, "mapping"],
        "message": f"{MAX_RULES + 1} rules is more than the {MAX_RULES} allowed",
        "code": "mapping.too_many_rules",
        "params": {"count": MAX_RULES + 1, "max": MAX_RULES},
    }


async def test_an_unsaved_filter_gets_the_checks_of_a_save(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    response = await client.post(
        f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE, "filter": _lookahead()}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "filter.conditions[0].value"


async def test_a_hostile_unsaved_template_leaves_the_api_answering(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    draft = [{"target": "Name", "template": LOOPS}, {"target": "Email", "source": "email"}]
    preview = asyncio.ensure_future(
        client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE, "mapping": draft})
    )
    answered = 0
    while not preview.done():  # other requests of the same process, while the template runs
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        answered += 1
    response = await preview
    assert response.status_code == 200, response.text
    assert response.json()["errors"] == [
        {
            "field": "Name",
            "message": "the filter, mapping and templates took longer than 1 s for this event",
            "code": "mapping.budget_exceeded",
            "params": {"seconds": 1.0, "field": "Name"},
        }
    ]
    assert answered >= 3  # on the event loop the render would have held every request for its second


async def test_previews_are_rate_limited_per_user(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    url = f"/api/v1/bundles/{bundle['id']}/preview"
    answers = await asyncio.gather(*(client.post(url, json={"item": SAMPLE}) for _ in range(PREVIEWS_PER_WINDOW + 5)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == PREVIEWS_PER_WINDOW and statuses.count(429) == 5
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "preview_rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1


async def test_the_dedup_preview_counts_in_the_preview_window(client, owner, connection_id):
    """It runs the same user code (the mapping) and searches bpm'online: one window for both previews."""
    bundle = await make_bundle(client, connection_id, start=False)
    for _ in range(PREVIEWS_PER_WINDOW):
        response = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE})
        assert response.status_code == 200, response.text
    refused = await client.post(f"/api/v1/bundles/{bundle['id']}/dedup-preview", json={"item": SAMPLE})
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "preview_rate_limited"
