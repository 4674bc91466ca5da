"""History of the whole workspace (`GET /api/v1/operations`): every bundle's operations newest first
in keyset pages, each naming its bundle; filtered by bundle, status and a value; never another
workspace's."""

from sqlalchemy import update

from bpmlink.db.models import Operation, OperationStatus
from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.pipeline import make_bundle, operation_of, post_event

URL = "/api/v1/operations"


def _item(email: str) -> dict[str, str]:
    return {"first_name": "Анна", "last_name": "Иванова", "email": email, "phone": ""}


async def test_all_bundles_newest_first_in_keyset_pages_each_naming_its_bundle(
    client, owner, connection_id, sessionmaker
):
    form = await make_bundle(client, connection_id, name="Форма сайта")
    shop = await make_bundle(client, connection_id, name="Магазин")
    events = []
    for i in range(5):
        bundle = form if i % 2 == 0 else shop
        events.append(await post_event(sessionmaker, bundle["id"], _item(f"p{i}@example.com")))
    ops = [await operation_of(sessionmaker, e) for e in events]
    seen, cursor = [], None
    while True:
        body = (await client.get(URL, params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        assert len(body["items"]) <= 2
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [i["id"] for i in seen] == [str(o.id) for o in reversed(ops)]
    names = {i["bundle_id"]: i["bundle_name"] for i in seen}
    assert names == {form["id"]: "Форма сайта", shop["id"]: "Магазин"}
    only_shop = (await client.get(URL, params={"bundle_id": shop["id"]})).json()["items"]
    assert [i["id"] for i in only_shop] == [str(ops[3].id), str(ops[1].id)]


async def test_status_filter_and_search_by_value_across_bundles(client, owner, connection_id, sessionmaker):
    form = await make_bundle(client, connection_id, name="Форма")
    shop = await make_bundle(client, connection_id, name="Магазин")
    a = await operation_of(sessionmaker, await post_event(sessionmaker, form["id"], _item("same@example.com")))
    b = await operation_of(sessionmaker, await post_event(sessionmaker, shop["id"], _item("same@example.com")))
    await post_event(sessionmaker, shop["id"], _item("other@example.com"))
    async with sessionmaker.begin() as session:
        await session.execute(update(Operation).where(Operation.id == a.id).values(status=OperationStatus.failed))
    found = (await client.get(URL, params={"q": "SAME@example.com"})).json()["items"]
    assert [i["id"] for i in found] == [str(b.id), str(a.id)]
    failed = (await client.get(URL, params={"status": ["failed"]})).json()["items"]
    assert [i["id"] for i in failed] == [str(a.id)]
    both = (await client.get(URL, params={"status": ["failed"], "q": "other@example.com"})).json()["items"]
    assert both == []


async def test_another_workspaces_operations_never_appear(client, owner, connection_id, sessionmaker):
    mine = await make_bundle(client, connection_id, name="Мой")
    my_op = await operation_of(sessionmaker, await post_event(sessionmaker, mine["id"], _item("shared@example.com")))
    stranger = await make_workspace(sessionmaker, "Other")
    await login(client, stranger)
    assert (await client.get(URL)).json()["items"] == []
    assert (await client.get(URL, params={"q": "shared@example.com"})).json()["items"] == []
    assert (await client.get(URL, params={"bundle_id": mine["id"]})).status_code == 404
    await login(client, owner)
    assert [i["id"] for i in (await client.get(URL)).json()["items"]] == [str(my_op.id)]


async def test_a_webhook_operation_shows_its_incoming_request_as_the_gateway_stored_it(
    client, owner, connection_id, sessionmaker
):
    bundle = await make_bundle(client, connection_id)
    request = {"method": "POST", "headers": {"content-type": "application/json"}, "query": "", "client": "10.1.2.3"}
    body = b'{"email": "anna@example.com", "name": "\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0"}'
    event_id = await post_event(sessionmaker, bundle["id"], _item("anna@example.com"), request=request, body=body)
    op = await operation_of(sessionmaker, event_id)
    incoming = (await client.get(f"/api/v1/operations/{op.id}")).json()["incoming"]
    assert incoming["method"] == "POST" and incoming["client"] == "10.1.2.3"
    assert incoming["headers"] == {"content-type": "application/json"}
    assert incoming["body"] == '{"email": "anna@example.com", "name": "Анна"}'
    imported = await post_event(sessionmaker, bundle["id"], _item("boris@example.com"))
    plain = await operation_of(sessionmaker, imported)
    assert (await client.get(f"/api/v1/operations/{plain.id}")).json()["incoming"] is None
