"""Issue #17: what several matches do (on_several), the exact fallback without SearchNumber, the dedup preview."""

import pytest
from bpmlink_worker.process import process_event

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, login
from tests.fixtures.pipeline import make_bundle, operation_of, post_event, sandbox_rows
from tests.pipeline.test_match_groups import MAPPING, PHONE_ELSE_EMAIL, bundle_of, stored_contact


def three_with_one_email(sandbox, email: str) -> list[dict]:
    """Three contacts with one e-mail, oldest first (each write moves ModifiedOn on)."""
    return [stored_contact(sandbox, Name=f"Dup {i}", Email=email) for i in range(3)]


def names_of(sandbox, email: str) -> dict[str, str]:
    return {r["Id"]: r["Name"] for r in sandbox_rows(sandbox, "Contact", f"Email eq '{email}'")}


@pytest.mark.parametrize(
    ("choice", "status", "renamed"),
    [
        ("newest", "updated", [2]),
        ("oldest", "updated", [0]),
        ("skip", "skipped_duplicate", []),
        ("update_all", "updated", [0, 1, 2]),
    ],
)
async def test_on_several_each_choice(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, choice, status, renamed
):
    email = f"{choice}@several.example"
    stored = three_with_one_email(sandbox, email)
    bundle = await bundle_of(client, connection_id, on_several=choice)
    event = await post_event(sessionmaker, bundle["id"], {"name": "Renamed", "email": email})
    assert await process_event(worker_ctx, str(event)) == status
    names = names_of(sandbox, email)
    assert sorted(i for i, record in enumerate(stored) if names[record["Id"]] == "Renamed") == renamed
    op = await operation_of(sessionmaker, event)
    assert op.error.startswith("3 records match by group 2")
    assert all(record["Id"] in op.error for record in stored)  # the candidates' ids are listed


async def test_update_all_over_its_cap_skips_as_ambiguous(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    email = "many@several.example"
    for i in range(11):
        stored_contact(sandbox, Name=f"Many {i}", Email=email)
    bundle = await bundle_of(client, connection_id, on_several="update_all")
    event = await post_event(sessionmaker, bundle["id"], {"name": "Renamed", "email": email})
    assert await process_event(worker_ctx, str(event)) == "skipped_duplicate"
    assert "too many to update all" in (await operation_of(sessionmaker, event)).error
    assert "Renamed" not in names_of(sandbox, email).values()


async def test_without_a_search_column_phones_match_exactly_and_history_says_so(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    sandbox.set_faults(search_number=False)  # an instance whose ContactCommunication has no SearchNumber
    try:
        other_format = stored_contact(sandbox, Name="Typed", MobilePhone="+7 (912) 345-67-89")
        same_text = stored_contact(sandbox, Name="Normalised", MobilePhone="+79123456789")
        bundle = await bundle_of(client, connection_id)
        event = await post_event(sessionmaker, bundle["id"], {"name": "New", "phone": "+79123456789"})
        assert await process_event(worker_ctx, str(event)) == "updated"
        op = await operation_of(sessionmaker, event)
        assert str(op.record_id) == same_text["Id"] != other_format["Id"]
        assert "no SearchNumber column" in op.error
    finally:
        sandbox.clear_faults()


async def test_dedup_preview_finds_without_writing_and_names_the_phone_search(
    client, owner, connection_id, sandbox, sessionmaker
):
    stored = stored_contact(sandbox, Name="Preview Me", MobilePhone="8 (912) 345-67-89")
    bundle = await bundle_of(client, connection_id)
    url = f"/api/v1/bundles/{bundle['id']}/dedup-preview"
    found = await client.post(url, json={"item": {"name": "X", "phone": "+7 912 345 67 89", "email": "x@p.example"}})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["group"], body["fields"], body["action"]) == (0, ["MobilePhone"], "update")
    assert body["values"] == {"MobilePhone": "+7 912 345 67 89"}
    assert body["candidates"] == [{"id": stored["Id"], "name": "Preview Me"}]
    assert body["phone_search"] == "search_column"
    [row] = sandbox_rows(sandbox, "Contact", f"Id eq {stored['Id']}")
    assert row["Email"] == ""  # read-only: nothing was written
    none = await client.post(url, json={"item": {"name": "Y", "email": "nobody@p.example"}})
    assert none.json()["group"] is None and none.json()["action"] == "create"


async def test_dedup_preview_says_when_phones_can_only_be_matched_exactly(client, owner, connection_id, sandbox):
    sandbox.set_faults(search_number=False)
    try:
        bundle = await make_bundle(client, connection_id, mapping=MAPPING, dedup=PHONE_ELSE_EMAIL)
        answer = await client.post(f"/api/v1/bundles/{bundle['id']}/dedup-preview", json={"item": {"phone": "+7 912"}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["phone_search"] == "exact_fallback"
    finally:
        sandbox.clear_faults()


@pytest.mark.parametrize(
    ("dedup", "code"),
    [
        ({"match": [{"fields": ["Email"]}, {"fields": []}]}, "dedup_group_empty"),
        ({"match": [{"fields": ["Email"]}, {"fields": ["Email"]}]}, "dedup_group_repeated"),
        ({"match": [{"fields": [f"F{i}"]} for i in range(11)]}, "dedup_too_many_groups"),
        ({"match": [{"fields": ["Email"]}, {"fields": ["Surname"]}]}, "dedup_match_field_not_mapped"),
        ({"match": [{"fields": ["Email"]}], "compare": {"Name": {"as": "text"}}}, "dedup_compare_field_not_matched"),
    ],
)
async def test_a_bad_policy_is_refused_naming_the_problem(client, owner, connection_id, dedup, code):
    response = await client.post(
        "/api/v1/bundles",
        json={
            "name": "bad",
            "source": {"app": "webhook", "trigger": "incoming_request"},
            "target": {"connection_id": connection_id, "action": "create_record", "entity": "Contact"},
            "mapping": MAPPING,
            "dedup": {"mode": "update_if_found", **dedup},
        },
    )
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert code in [d.get("code") for d in details]


async def test_a_viewer_cannot_run_the_dedup_preview(client, owner, connection_id, sandbox, sessionmaker):
    bundle = await bundle_of(client, connection_id)
    viewer = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    client.cookies.clear()
    await login(client, viewer)
    response = await client.post(f"/api/v1/bundles/{bundle['id']}/dedup-preview", json={"item": {"email": "a@b.c"}})
    assert response.status_code == 403, response.text
