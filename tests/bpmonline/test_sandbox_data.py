"""Data against the sandbox: CRUD, $batch, hostile filters, $metadata, errors under faults."""

import uuid

import httpx
import pytest

from bpmlink.bpmonline import (
    BatchOp,
    BpmTimeoutError,
    F,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransientError,
    ValidationError,
)

SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
OUR_COMPANY = "e308b781-3c5b-4ecb-89ef-5c1ed4da488e"


async def test_crud_round_trip(make_client):
    bpm = make_client()
    rid = uuid.uuid4()
    created = await bpm.create("Contact", {"Name": "Jane Roe", "Email": "jane@acme.test", "AccountId": OUR_COMPANY},
                               rid)
    assert created["Id"] == str(rid)
    assert created["OwnerId"] == SUPERVISOR  # server default: the caller's contact
    assert "@odata.context" not in created
    got = await bpm.get("Contact", rid, select=["Id", "Name", "AccountId"])
    assert got == {"Id": str(rid), "Name": "Jane Roe", "AccountId": OUR_COMPANY}
    await bpm.update("Contact", rid, {"JobTitle": "CTO"})
    assert (await bpm.get("Contact", rid))["JobTitle"] == "CTO"
    found = await bpm.query("Contact", filter=F.eq_lookup("Account", OUR_COMPANY) & F.eq("Email", "jane@acme.test"))
    assert [r["Id"] for r in found] == [str(rid)]
    assert await bpm.count("Contact", filter=F.eq("Id", rid)) == 1
    await bpm.delete("Contact", rid)
    with pytest.raises(NotFoundError) as info:
        await bpm.get("Contact", rid)
    assert info.value.code == "record_not_found"
    assert await bpm.find("Contact", rid) is None


async def test_create_always_sends_an_id(make_client):
    created = await make_client().create("Account", {"Name": "Generated Id Ltd"})
    assert uuid.UUID(created["Id"])


HOSTILE = ["O'Brien", "Ёлка 日本 ü", "100% sure", "A&B=C", "C# dev", "a/b", "x+y", "' or 1 eq 1", "semi;colon?"]


async def test_hostile_values_find_exactly_their_record(make_client):
    bpm = make_client()
    tag = uuid.uuid4().hex[:8]
    ids = {}
    for value in [*HOSTILE, "plain"]:
        rec = await bpm.create("Account", {"Name": f"{value} {tag}", "Code": value})
        ids[value] = rec["Id"]
    for value in HOSTILE:
        rows = await bpm.query("Account", filter=F.eq("Name", f"{value} {tag}"), select=["Id", "Name"])
        assert [r["Id"] for r in rows] == [ids[value]], value
        by_code = await bpm.query("Account", filter=F.eq("Code", value) & F.endswith("Name", tag), select=["Id"])
        assert [r["Id"] for r in by_code] == [ids[value]], value
    contains = await bpm.query("Account", filter=F.contains("Name", "%") & F.contains("Name", tag), select=["Id"])
    assert [r["Id"] for r in contains] == [ids["100% sure"]]
    quote = await bpm.query("Account", filter=F.startswith("Name", "' or"), select=["Id"])
    assert [r["Id"] for r in quote] == [ids["' or 1 eq 1"]]


async def test_v3_dialect_reads_and_writes_the_same_data(make_client):
    bpm = make_client(odata_version=3)
    rid = uuid.uuid4()
    await bpm.create("Contact", {"Name": "Old Protocol", "Email": "v3@acme.test"}, rid)
    rows = await bpm.query("Contact", filter=F.eq("Email", "v3@acme.test") & F.eq("Id", rid), select=["Id", "Name"])
    assert rows == [{"Id": str(rid), "Name": "Old Protocol"}]
    assert await bpm.count("Contact", filter=F.eq("Email", "v3@acme.test")) == 1
    await bpm.update("Contact", rid, {"JobTitle": "Legacy"})
    assert (await bpm.get("Contact", rid))["JobTitle"] == "Legacy"
    v4 = make_client(id="v4-view")
    assert (await v4.get("Contact", rid))["JobTitle"] == "Legacy"
    await bpm.delete("Contact", rid)
    assert await v4.find("Contact", rid) is None


@pytest.mark.parametrize("continue_on_error", [False, True])
async def test_batch_with_a_failing_middle_op(make_client, continue_on_error):
    bpm = make_client()
    first, last = uuid.uuid4(), uuid.uuid4()
    ops = [
        BatchOp.create("Contact", {"Name": "Batch First"}, first),
        BatchOp.update("Contact", uuid.uuid4(), {"Name": "nobody"}),  # missing key → 404
        BatchOp.create("Contact", {"Name": "Batch Last"}, last),
    ]
    results = await bpm.batch(ops, continue_on_error=continue_on_error)
    assert results[0].ok and results[0].status == 201 and results[0].body["Id"] == str(first)
    assert not results[1].ok and isinstance(results[1].error, NotFoundError)
    assert results[2].ok is continue_on_error
    assert results[2].executed is continue_on_error
    assert (await bpm.find("Contact", first)) is not None
    assert ((await bpm.find("Contact", last)) is not None) is continue_on_error


async def test_metadata_contact_fields_types_and_lookups(make_client):
    bpm = make_client()
    meta = await bpm.metadata()
    contact = meta.entity("Contact")
    assert contact.fields["Id"].type == "Edm.Guid"
    assert contact.fields["Name"].type == "Edm.String"
    assert contact.fields["CreatedOn"].type == "Edm.DateTimeOffset"
    assert contact.fields["DoNotUseEmail"].type == "Edm.Boolean"
    assert contact.fields["Age"].type == "Edm.Int32"
    assert contact.fields["AccountId"].lookup_entity == "Account"
    assert contact.fields["OwnerId"].lookup_entity == "Contact"
    assert contact.lookups["TypeId"] in meta.entities
    assert contact.fields["ContactPhoto"].is_stream
    assert "ContactPhoto" not in contact.selectable_fields()
    assert meta.entity("Lead").fields["BusinesPhone"].type == "Edm.String"
    assert await bpm.metadata() is meta  # cached
    assert await bpm.metadata(refresh=True) is not meta
    with pytest.raises(ValidationError):  # a stream column is never selected
        await bpm.query("Contact", select=["ContactPhoto"])


async def test_metadata_of_odata3(make_client):
    meta = await make_client(odata_version=3).metadata()
    assert meta.version == 3
    contact = meta.entity("Contact")
    assert contact.fields["AccountId"].lookup_entity == "Account"
    assert contact.fields["Name"].type == "Edm.String"


async def test_flat_lookup_filter_is_500_but_rewritten_once_metadata_is_known(make_client):
    bpm = make_client()
    with pytest.raises(ValidationError) as info:  # Creatio's "Column by path … not found", a 500
        await bpm.query("Contact", filter=F.eq("AccountId", uuid.UUID(OUR_COMPANY)))
    assert info.value.status == 500 and "Column by path" in info.value.message
    await bpm.metadata()
    rows = await bpm.query("Contact", filter=F.eq("AccountId", OUR_COMPANY), select=["AccountId"])
    assert rows and all(r["AccountId"] == OUR_COMPANY for r in rows)


async def test_permanent_errors_carry_bpmonline_messages(make_client):
    bpm = make_client()
    with pytest.raises(ValidationError) as info:
        await bpm.query("Contact", filter=F.eq("NoSuchField", "x"))
    assert info.value.status == 400 and "NoSuchField" in info.value.message
    with pytest.raises(ValidationError) as fk:
        await bpm.create("Contact", {"Name": "Orphan", "AccountId": str(uuid.uuid4())})
    assert fk.value.status == 500 and fk.value.code == "data_error"
    rid = uuid.uuid4()
    await bpm.create("Contact", {"Name": "Twice"}, rid)
    with pytest.raises(ValidationError) as dup:
        await bpm.create("Contact", {"Name": "Twice"}, rid)
    assert dup.value.status == 500
    with pytest.raises(NotFoundError) as unknown:
        await bpm.query("UsrNoSuchEntity")
    assert unknown.value.code == "unknown_entity"


@pytest.mark.parametrize(
    ("faults", "cls", "code", "retry_after"),
    [
        ({"fail_next": 1, "fail_next_kind": "500"}, ServerError, "server_error", None),
        ({"fail_next": 1, "fail_next_kind": "html"}, ServerError, "server_error", None),
        ({"fail_next": 1, "fail_next_kind": "503", "unavailable_retry_after": 7}, RateLimitedError, "unavailable", 7),
        ({"fail_next": 1, "fail_next_kind": "429", "throttle_retry_after": 3}, RateLimitedError, "rate_limited", 3),
        ({"ram_limit": True}, ServerError, "ram_limit", None),
        ({"outage_seconds": 30}, RateLimitedError, "unavailable", None),
    ],
)
async def test_injected_faults_are_transient(make_client, sbx, faults, cls, code, retry_after):
    bpm = make_client()
    await bpm.query("Contact", top=1)  # logged in before the fault
    await sbx.set_faults(fault_scope="data", **faults)
    with pytest.raises(cls) as info:
        await bpm.query("Contact", top=1)
    assert isinstance(info.value, TransientError)
    assert info.value.code == code and info.value.retry_after == retry_after
    assert info.value.steps and info.value.steps[-1].status in (500, 503, 429)


async def test_slow_answers_time_out(make_client, sbx):
    bpm = make_client(client_kw={"timeout": httpx.Timeout(0.3)})
    await bpm.query("Contact", top=1)
    await sbx.set_faults(latency_ms=1000)
    with pytest.raises(BpmTimeoutError) as info:
        await bpm.query("Contact", top=1)
    assert info.value.code == "read_timeout"


async def test_create_retried_after_write_then_fail_leaves_one_record(make_client, sbx):
    bpm = make_client()
    rid = uuid.uuid4()
    data = {"Name": "Write Then Fail", "Email": f"wtf-{rid.hex[:6]}@acme.test"}
    await sbx.set_faults(write_then_fail=True)
    with pytest.raises(ServerError):  # the row is written, the answer is a 500
        await bpm.create_idempotent("Contact", data, rid, check_first=False)
    await sbx.set_faults(write_then_fail=False)
    retry = await bpm.create_idempotent("Contact", data, rid)  # what the pipeline does next
    assert not retry.created and retry.record["Id"] == str(rid)
    assert await bpm.count("Contact", filter=F.eq("Email", data["Email"])) == 1
    again = await bpm.create_idempotent("Contact", data, rid, check_first=False)  # a racing duplicate
    assert not again.created
    assert await bpm.count("Contact", filter=F.eq("Email", data["Email"])) == 1
