"""Incident e-mails in each recipient's language (a member's profile; an address of no member: the
owner's), and the webhook's code with params beside the English message."""

import uuid

from bpmlink_worker.incidents import check_failures
from bpmlink_worker.process import process_event

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member
from tests.fixtures.app import execute
from tests.fixtures.pipeline import make_bundle, post_event
from tests.notifications.test_incidents import _drain


async def _speaks(sessionmaker, email: str, language: str) -> None:
    await execute(sessionmaker, "update users set language = :l where email = :e", l=language, e=email)


async def _notify(client, emails: list[str], url: str, **extra) -> None:
    body = {"notifications": {"emails": emails, "webhook_url": url, **extra}}
    assert (await client.patch("/api/v1/workspace", json=body)).status_code == 200


async def test_a_stopped_bundle_is_told_to_each_member_in_their_language_and_the_webhook_gets_the_code(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings, inbox, received, receiver_server
):
    russian = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    await _speaks(sessionmaker, russian.email, "ru")
    await _speaks(sessionmaker, owner.email, "en")
    await _notify(client, [russian.email, "ops@example.com"], receiver_server[0])
    bundle = await make_bundle(client, connection_id)
    await client.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"password": "wrong-now"}})
    sandbox.expire_sessions()
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "A", "email": "a@x.com"})
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    await _drain(settings)

    by_to = {str(m["To"]): m for m in inbox.messages}
    assert set(by_to) == {russian.email, "ops@example.com"}  # one e-mail per language
    in_russian = by_to[russian.email].get_content()
    assert f"связка «{bundle['name']}» остановлена:" in in_russian and "Связка:" in in_russian
    in_english = by_to["ops@example.com"].get_content()  # no member: the owner's language
    assert f"the bundle «{bundle['name']}» was stopped:" in in_english and "Bundle:" in in_english

    (payload,) = received
    words = payload["words"]
    assert words["code"] == "incident_bundle_error" and words["params"]["bundle"] == bundle["name"]
    assert words["params"]["reason"] and words["text"] == payload["message"]
    assert payload["message"].startswith(f"the bundle «{bundle['name']}» was stopped: ")


async def test_failures_are_counted_in_russian_plural_forms_for_a_russian_owners_mailbox(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings, inbox, received, receiver_server
):
    await _speaks(sessionmaker, owner.email, "ru")
    await _notify(client, ["ops@example.com"], receiver_server[0], failures_per_hour=2)
    mapping = [{"target": "Name", "source": "name"}, {"target": "AccountId", "constant": str(uuid.uuid4())}]
    bundle = await make_bundle(client, connection_id, mapping=mapping, dedup={"mode": "always_create"})
    for i in range(3):
        event_id = await post_event(sessionmaker, bundle["id"], {"name": f"n{i}"})
        assert await process_event(worker_ctx, str(event_id)) == "failed"
    assert await check_failures(worker_ctx) == 1
    await _drain(settings)
    (message,) = inbox.messages
    assert f"за последний час не выполнены 3 операции связки «{bundle['name']}»" in message.get_content()
    assert received[0]["words"] == {
        "code": "incident_failures",
        "params": {"count": 3, "bundle": bundle["name"]},
        "text": f"3 operations of the bundle «{bundle['name']}» failed in the last hour",
    }
