"""What an update changed: the worker keeps `{column: [old, new]}` for the columns its PATCH sent —
in the operation (`changes`) and, in a bundle of steps, in each step's result; a create and an
unchanged record keep none."""

from bpmlink_worker.process import process_event

from bpmlink.step_results import StepResult
from tests.fixtures.pipeline import make_bundle, operation_of, post_event
from tests.steps.flows import make_lead_flow

ANNA = {"first_name": "Анна", "last_name": "O'Brien", "email": "anna@example.com", "phone": "+7 912 345-67-89"}


async def test_an_update_keeps_the_old_and_new_value_of_each_column_it_changed(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], ANNA)
    assert await process_event(worker_ctx, str(first)) == "created"
    assert (await operation_of(sessionmaker, first)).changes is None
    # A new name overwrites; the phone is fill_if_empty, so the PATCH leaves it (and so do the changes).
    again = await post_event(sessionmaker, bundle["id"], dict(ANNA, last_name="Smith", phone="+7 900 000-00-00"))
    assert await process_event(worker_ctx, str(again)) == "updated"
    op = await operation_of(sessionmaker, again)
    assert op.changes == {"Name": ["Анна O'Brien", "Анна Smith"]}
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["changes"] == {"Name": ["Анна O'Brien", "Анна Smith"]}
    same = await post_event(sessionmaker, bundle["id"], dict(ANNA, last_name="Smith"))
    assert await process_event(worker_ctx, str(same)) == "unchanged"
    assert (await operation_of(sessionmaker, same)).changes is None


async def test_each_step_of_a_bundle_keeps_its_own_changes(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_lead_flow(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], ANNA)
    assert await process_event(worker_ctx, str(first)) == "created"
    again = await post_event(sessionmaker, bundle["id"], dict(ANNA, first_name="Анастасия"))
    await process_event(worker_ctx, str(again))
    op = await operation_of(sessionmaker, again)
    results = {r["key"]: StepResult.model_validate(r) for r in op.step_results or []}
    assert results["contact"].result == "updated"
    assert results["contact"].changes == {"Name": ["Анна O'Brien", "Анастасия O'Brien"]}
    assert results["lead"].result == "created" and results["lead"].changes is None
    assert op.changes == results["contact"].changes
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["step_results"][0]["changes"] == {"Name": ["Анна O'Brien", "Анастасия O'Brien"]}
