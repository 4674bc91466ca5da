"""History reads and filters take the operation status `test` (a sender's request that only checked the
URL): listed, filtered, read; never replayed, since nothing was meant to reach bpm'online."""

from tests.fixtures.pipeline import make_bundle, operation_of, post_event


async def test_history_lists_filters_and_reads_test_operations_and_refuses_their_replay(
    client, owner, connection_id, sessionmaker
):
    bundle = await make_bundle(client, connection_id)
    test_event = await post_event(sessionmaker, bundle["id"], {"test": "test"}, test=True)
    await post_event(sessionmaker, bundle["id"], {"first_name": "R", "last_name": "1", "email": "r@x.io"})
    op = await operation_of(sessionmaker, test_event)

    url = f"/api/v1/bundles/{bundle['id']}/operations"
    assert len((await client.get(url)).json()["items"]) == 2
    filtered = await client.get(url, params={"status": "test"})
    assert filtered.status_code == 200, filtered.text
    assert [o["id"] for o in filtered.json()["items"]] == [str(op.id)]
    read = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert (read["status"], read["source_data"]) == ("test", {"test": "test"})
    assert read["finished_at"] is not None
    replay = await client.post(f"/api/v1/operations/{op.id}/replay")
    assert replay.status_code == 409
