"""Issue #17: match groups (phone, else e-mail, else create) through the API and a worker into the sandbox."""

import asyncio
from typing import Any

from bpmlink_worker.process import process_event

from tests.fixtures.pipeline import job_ctx, make_bundle, operation_of, post_event, sandbox_rows, worker_process

# The phone as the source sends it: no conversion, so the comparison, not the mapping, makes the forms one.
MAPPING = [
    {"target": "Name", "source": "name"},
    {"target": "Email", "source": "email"},
    {"target": "MobilePhone", "source": "phone"},
]
PHONE_ELSE_EMAIL = {
    "mode": "update_if_found",
    "match": [{"fields": ["MobilePhone"]}, {"fields": ["Email"]}],
    "compare": {"MobilePhone": {"as": "phone", "region": "RU"}, "Email": {"as": "email"}},
}
TAIL = "9876543219"  # SearchNumber's start for +7 912 345-67-89: its last ten digits, reversed


def contacts_with_phone(sandbox, reversed_tail: str = TAIL) -> set[str]:
    rows = sandbox_rows(sandbox, "ContactCommunication", f"startswith(SearchNumber,'{reversed_tail}')")
    return {r["ContactId"] for r in rows}


def stored_contact(sandbox, **values: Any) -> dict[str, Any]:
    http = sandbox.login()
    try:
        created = http.post("/0/odata/Contact", json=values)
        assert created.status_code == 201, created.text
        return created.json()
    finally:
        http.close()


async def bundle_of(client, connection_id, **dedup: Any) -> dict[str, Any]:
    return await make_bundle(client, connection_id, mapping=MAPPING, dedup={**PHONE_ELSE_EMAIL, **dedup})


async def test_a_phone_stored_in_another_format_is_found_and_updated(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    stored = stored_contact(sandbox, Name="Ivan Petrov", MobilePhone="+7 (912) 345-67-89")
    bundle = await bundle_of(client, connection_id)
    event = await post_event(sessionmaker, bundle["id"], {"name": "Ivan", "phone": "89123456789", "email": "iv@new.ru"})
    assert await process_event(worker_ctx, str(event)) == "updated"
    op = await operation_of(sessionmaker, event)
    assert str(op.record_id) == stored["Id"]
    assert "group 1 (MobilePhone = 89123456789)" in op.error  # history: which group, which values
    assert contacts_with_phone(sandbox) == {stored["Id"]}  # no second contact
    [row] = sandbox_rows(sandbox, "Contact", f"Id eq {stored['Id']}")
    assert row["Email"] == "iv@new.ru"


async def test_only_an_email_finds_by_email_and_neither_creates(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    stored = stored_contact(sandbox, Name="Olga", Email="Olga@Mail.example")
    bundle = await bundle_of(client, connection_id)
    by_email = await post_event(sessionmaker, bundle["id"], {"name": "Olga K", "email": " olga@mail.EXAMPLE "})
    assert await process_event(worker_ctx, str(by_email)) == "updated"
    op = await operation_of(sessionmaker, by_email)
    assert str(op.record_id) == stored["Id"] and "group 2 (Email" in op.error
    neither = await post_event(sessionmaker, bundle["id"], {"name": "Nobody"})
    assert await process_event(worker_ctx, str(neither)) == "created"
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Nobody'")) == 1


async def test_a_different_number_with_the_same_last_digits_is_not_a_match(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    stored_contact(sandbox, Name="Abroad", MobilePhone="+1 912 345 6789")  # same ten last digits, other country
    bundle = await bundle_of(client, connection_id)
    event = await post_event(sessionmaker, bundle["id"], {"name": "Home", "phone": "+7 912 345-67-89"})
    assert await process_event(worker_ctx, str(event)) == "created"
    assert len(contacts_with_phone(sandbox)) == 2


async def run_at_once(settings, events: list, workers: int = 4) -> list[str]:
    """The events at once through `workers` worker processes (each its own context)."""

    async def one_worker(share: list) -> list[str]:
        async with worker_process(settings) as context:
            return list(await asyncio.gather(*(process_event(job_ctx(context), str(e)) for e in share)))

    shares = await asyncio.gather(*(one_worker(events[i::workers]) for i in range(workers)))
    return [r for share in shares for r in share]


async def test_fifty_events_that_share_only_a_phone_leave_one_contact(
    client, owner, connection_id, sandbox, sessionmaker, settings
):
    bundle = await bundle_of(client, connection_id)
    forms = ["89123456789", "+7 (912) 345-67-89", "+79123456789", "8 912 345 67 89", "7-912-345-6789"]
    events = [
        await post_event(
            sessionmaker, bundle["id"], {"name": f"P{i}", "email": f"p{i}@only-phone.example", "phone": forms[i % 5]}
        )
        for i in range(50)
    ]
    sandbox.set_faults(latency_ms=30)  # widen the window between search and create
    try:
        results = await run_at_once(settings, events)
    finally:
        sandbox.clear_faults()
    assert results.count("created") == 1 and set(results) <= {"created", "updated", "unchanged"}
    assert len(contacts_with_phone(sandbox)) == 1


async def test_races_on_a_shared_phone_only_and_a_shared_email_only_each_make_one_contact(
    client, owner, connection_id, sandbox, sessionmaker, settings
):
    bundle = await bundle_of(client, connection_id)
    phone_pair = [
        await post_event(sessionmaker, bundle["id"], {"name": "A", "email": "a1@race.example", "phone": "89123456789"}),
        await post_event(
            sessionmaker, bundle["id"], {"name": "A", "email": "a2@race.example", "phone": "+79123456789"}
        ),
    ]
    email_pair = [
        await post_event(sessionmaker, bundle["id"], {"name": "B", "email": "B@race.example"}),
        await post_event(sessionmaker, bundle["id"], {"name": "B", "email": "b@RACE.example"}),
    ]
    sandbox.set_faults(latency_ms=150)
    try:
        results = await run_at_once(settings, phone_pair + email_pair, workers=4)
    finally:
        sandbox.clear_faults()
    assert results.count("created") == 2  # one per pair
    assert len(contacts_with_phone(sandbox)) == 1
    assert len(sandbox_rows(sandbox, "Contact", "tolower(Email) eq 'b@race.example'")) == 1


async def test_a_name_matches_trimmed_and_case_and_yo_insensitive_when_asked(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    stored = stored_contact(sandbox, Name="  Алёна   Петрова ")
    stored_contact(sandbox, Name="Алина Петрова")  # one letter apart: never a match
    dedup = {
        "match": [{"fields": ["Name"]}],
        "compare": {"Name": {"as": "text", "ignore_case": True, "ignore_yo": True}},
    }
    bundle = await bundle_of(client, connection_id, **dedup)
    event = await post_event(sessionmaker, bundle["id"], {"name": "алена петрова", "email": "alena@yo.example"})
    assert await process_event(worker_ctx, str(event)) == "updated"
    assert str((await operation_of(sessionmaker, event)).record_id) == stored["Id"]


async def test_gmail_aliases_find_the_contact_only_when_switched_on(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    stored = stored_contact(sandbox, Name="G", Email="ivanpetrov@gmail.com")
    results = []
    for gmail in (True, False):
        dedup = {
            "mode": "skip_if_found",
            "match": [{"fields": ["Email"]}],
            "compare": {"Email": {"as": "email", "gmail": gmail}},
        }
        bundle = await make_bundle(client, connection_id, name=f"gmail {gmail}", mapping=MAPPING, dedup=dedup)
        event = await post_event(sessionmaker, bundle["id"], {"name": "G", "email": "Ivan.Petrov@googlemail.com"})
        results.append(
            (await process_event(worker_ctx, str(event)), (await operation_of(sessionmaker, event)).record_id)
        )
    assert [status for status, _ in results] == ["skipped_duplicate", "created"]  # off by default: another address
    assert str(results[0][1]) == stored["Id"]
