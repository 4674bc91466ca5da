"""A lookup table's records for the wizard's pickers (a task's type, status, priority), from the instance."""

from __future__ import annotations

from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.app import browser

NOT_STARTED = "384d4b84-58e6-df11-971b-001d60e938c6"


async def test_a_lookup_tables_values_come_from_the_instance_by_name(client, owner, connection_id):
    response = await client.get(f"/api/v1/connections/{connection_id}/entities/ActivityStatus/values")
    assert response.status_code == 200, response.text
    body = response.json()
    names = [item["name"] for item in body["items"]]
    assert names == sorted(names) and {"id": NOT_STARTED, "name": "Not started"} in body["items"]
    assert body["more"] is False

    found = await client.get(
        f"/api/v1/connections/{connection_id}/entities/ActivityStatus/values", params={"q": "PROGRESS", "limit": 1}
    )
    assert [item["name"] for item in found.json()["items"]] == ["In progress"]

    quoted = await client.get(  # the text goes into $filter escaped, not as syntax
        f"/api/v1/connections/{connection_id}/entities/ActivityStatus/values", params={"q": "x' or 1 eq 1 or 'x"}
    )
    assert quoted.status_code == 200 and quoted.json()["items"] == []


async def test_an_unknown_table_is_404_and_another_workspaces_connection_is_not_found(
    app, client, owner, connection_id, sessionmaker
):
    unknown = await client.get(f"/api/v1/connections/{connection_id}/entities/NoSuchTable/values")
    assert unknown.status_code == 404
    async with browser(app) as other:
        await login(other, await make_workspace(sessionmaker, "Other"))
        walled = await other.get(f"/api/v1/connections/{connection_id}/entities/ActivityStatus/values")
    assert walled.status_code == 404
