"""OData 4 writes: POST defaults and echo, ids, validation, FK errors, PATCH, DELETE, custom Usr* schema."""

import re
import uuid
from datetime import datetime

import asyncpg
import pytest

from .conftest import EMPTY, OUR_COMPANY, SUPERVISOR

ENGLISH = "6ebc31fa-ee6c-48e9-81bf-8003ac03b019"


def test_post_answers_201_location_and_the_full_entity_with_defaults(api, sandbox):
    r = api.post("/0/odata/Contact", json={"Name": "John Best", "Email": "jb@example.com", "AccountId": OUR_COMPANY},
                 headers={"Content-Type": "application/json; charset=utf-8; IEEE754Compatible=true"})
    assert r.status_code == 201
    c = r.json()
    assert r.headers["location"] == f"{sandbox.base_url}/0/odata/Contact({c['Id']})"
    assert r.headers["odata-version"] == "4.0"
    assert c["@odata.context"] == f"{sandbox.base_url}/0/odata/$metadata#Contact/$entity"
    assert c["GivenName"] == "John" and c["Surname"] == "Best" and c["MiddleName"] == ""
    assert c["OwnerId"] == SUPERVISOR and c["CreatedById"] == SUPERVISOR and c["ModifiedById"] == SUPERVISOR
    assert c["ProcessListeners"] == 0 and c["LanguageId"] == ENGLISH and c["Confirmed"] is True
    assert c["SalutationTypeId"] == EMPTY and c["JobTitle"] == "" and c["BirthDate"] == "0001-01-01T00:00:00Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", c["CreatedOn"])  # 7-digit echo
    assert c["CreatedOn"] == c["ModifiedOn"]
    assert c["ContactPhoto@odata.mediaEditLink"] == f"Contact({c['Id']})/ContactPhoto"
    later = api.get(f"/0/odata/Contact({c['Id']})").json()
    assert later["ContactPhoto@odata.mediaReadLink"] == f"Contact({c['Id']})/ContactPhoto"
    assert set(later) == set(c)  # the same properties as the echo
    assert not re.search(r"\.\d{7}Z$", later["CreatedOn"])  # later GETs carry fewer digits
    assert abs((datetime.fromisoformat(later["CreatedOn"]) - datetime.fromisoformat(c["CreatedOn"][:26] + "Z"))
               .total_seconds()) < 0.001
    assert later["Email"] == "jb@example.com" and later["AccountId"] == OUR_COMPANY


def test_post_with_only_a_name_succeeds_and_name_parts_compose(api):
    solo = api.post("/0/odata/Contact", json={"Name": "Cher"}).json()
    assert solo["GivenName"] == "Cher" and solo["Surname"] == ""
    three = api.post("/0/odata/Contact", json={"Name": "Mary Ann Smith"}).json()
    assert (three["GivenName"], three["MiddleName"], three["Surname"]) == ("Mary", "Ann", "Smith")
    parts = api.post("/0/odata/Contact", json={"GivenName": "Ivan", "Surname": "Petrov"}).json()
    assert parts["Name"] == "Ivan Petrov"


def test_client_supplied_id_is_honoured_and_a_duplicate_is_500(api):
    key = "62f9bc01-57cf-4cc7-90bf-8672acc922e3"
    r = api.post("/0/odata/City", json={"Id": key, "Name": "Burbank"})
    assert r.status_code == 201 and r.json()["Id"] == key
    dup = api.post("/0/odata/City", json={"Id": key.upper(), "Name": "Burbank again"})
    assert dup.status_code == 500
    err = dup.json()["error"]
    assert err["code"] == "" and err["message"] == "An error has occurred."
    assert "duplicate key value violates unique constraint" in err["innererror"]["message"]
    assert api.get(f"/0/odata/City({key})/Name/$value").text == "Burbank"


def test_unknown_property_is_400(api):
    r = api.post("/0/odata/Contact", json={"Name": "X", "Foo": 1})
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith(
        "The property 'Foo' does not exist on type 'Terrasoft.Configuration.OData.Contact'.")
    assert api.get("/0/odata/Contact/$count?$filter=Name eq 'X'").text == "0"


def test_bad_values_are_400(api):
    assert api.post("/0/odata/Contact", json={"Name": "X", "AccountId": "not-a-guid"}).status_code == 400
    assert api.post("/0/odata/Contact", json={"Name": "X", "Age": "old"}).status_code == 400
    assert api.post("/0/odata/Contact", json={"Name": 5}).status_code == 400
    assert api.post("/0/odata/Contact", json=["Name"]).status_code == 400
    assert api.post("/0/odata/Contact", content=b"{bad json", headers={"Content-Type": "application/json"}
                    ).status_code == 400
    assert api.post("/0/odata/Contact", content=b"Name=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415


def test_missing_referenced_record_is_500_with_the_db_error(api):
    r = api.post("/0/odata/Contact", json={"Name": "Orphan", "AccountId": "11111111-1111-1111-1111-111111111111"})
    assert r.status_code == 500
    inner = r.json()["error"]["innererror"]
    assert inner["message"].startswith('23503: insert or update on table "Contact" violates foreign key constraint')
    assert inner["type"] == "Npgsql.PostgresException"
    assert api.get("/0/odata/Contact/$count?$filter=Name eq 'Orphan'").text == "0"


def test_navigation_name_in_the_body_is_not_a_write(api):
    c = api.post("/0/odata/Contact", json={"Name": "Nav Name", "Account": OUR_COMPANY}).json()
    assert c["AccountId"] == EMPTY


def test_lookups_can_be_cleared_with_null_or_the_empty_guid(api):
    c = api.post("/0/odata/Contact", json={"Name": "Clear Me", "AccountId": OUR_COMPANY}).json()
    assert api.patch(f"/0/odata/Contact({c['Id']})", json={"AccountId": None}).status_code == 204
    assert api.get(f"/0/odata/Contact({c['Id']})/AccountId/$value").text == EMPTY


def test_patch_is_204_and_changes_only_the_sent_fields(api):
    c = api.post("/0/odata/Contact", json={"Name": "Jane Roe", "Email": "jane@acme.com"}).json()
    r = api.patch(f"/0/odata/Contact({c['Id']})", json={"JobTitle": "CEO", "AccountId": OUR_COMPANY})
    assert r.status_code == 204 and r.content == b""
    after = api.get(f"/0/odata/Contact({c['Id']})").json()
    assert after["JobTitle"] == "CEO" and after["AccountId"] == OUR_COMPANY and after["Email"] == "jane@acme.com"
    assert datetime.fromisoformat(after["ModifiedOn"]) >= datetime.fromisoformat(after["CreatedOn"])
    api.patch(f"/0/odata/Contact({c['Id']})", json={"Name": "Jane Q Public"})
    renamed = api.get(f"/0/odata/Contact({c['Id']})").json()
    assert (renamed["GivenName"], renamed["MiddleName"], renamed["Surname"]) == ("Jane", "Q", "Public")


def test_patch_validation_and_missing_key(sandbox, api):
    assert api.patch(f"/0/odata/Contact({SUPERVISOR})", json={"Nope": 1}).status_code == 400
    bad_fk = api.patch(f"/0/odata/Contact({SUPERVISOR})", json={"AccountId": "11111111-1111-1111-1111-111111111111"})
    assert bad_fk.status_code == 500
    missing = "11111111-2222-3333-4444-555555555555"
    assert api.patch(f"/0/odata/Contact({missing})", json={"JobTitle": "x"}).status_code == 404
    sandbox.set_faults(patch_missing="204")  # the documented batch example's behaviour
    assert api.patch(f"/0/odata/Contact({missing})", json={"JobTitle": "x"}).status_code == 204
    assert api.get(f"/0/odata/Contact({missing})").status_code == 404


def test_delete_is_204_then_404(api):
    c = api.post("/0/odata/Contact", json={"Name": "Temp"}).json()
    r = api.delete(f"/0/odata/Contact({c['Id']})")
    assert r.status_code == 204
    assert api.get(f"/0/odata/Contact({c['Id']})").status_code == 404
    assert api.delete(f"/0/odata/Contact({c['Id']})").status_code == 404


def test_deleting_a_referenced_row_is_500(api):
    r = api.delete(f"/0/odata/Account({OUR_COMPANY})")
    assert r.status_code == 500
    assert r.json()["error"]["innererror"]["message"].startswith(
        '23503: update or delete on table "Account" violates foreign key constraint')
    assert api.get(f"/0/odata/Account({OUR_COMPANY})").status_code == 200


def test_activity_and_lead_schema_defaults(api):
    a = api.post("/0/odata/Activity", json={"Title": "Call", "StartDate": "2026-01-05T10:00:00Z",
                                            "DueDate": "2026-01-05T10:30:00.1234567+03:00"}).json()
    assert a["TypeId"] == "fbe0acdc-cfc0-df11-b00f-001d60e938c6"
    assert a["StatusId"] == "384d4b84-58e6-df11-971b-001d60e938c6"
    assert a["PriorityId"] == "ab96fa02-7fe6-df11-971b-001d60e938c6"
    assert a["ActivityCategoryId"] == "f2c0ce0e-cfc1-df11-b00f-001d60e938c6"
    assert a["OwnerId"] == SUPERVISOR and a["AuthorId"] == SUPERVISOR
    assert a["DueDate"] == "2026-01-05T07:30:00.123456Z"  # stored in UTC
    lead = api.post("/0/odata/Lead", json={"Contact": "Анна Смирнова", "Account": "ООО «Ромашка»",
                                           "BusinesPhone": "+7 495 000-00-00", "Budget": "12500.50"}).json()
    assert lead["BusinesPhone"] == "+7 495 000-00-00" and lead["Budget"] == 12500.5
    assert lead["LeadName"] == "Анна Смирнова, ООО «Ромашка»"


def test_write_then_fail_persists_the_row_but_answers_500(sandbox, api):
    sandbox.set_faults(write_then_fail=True)
    key = "7d3a1c4e-0000-4000-8000-000000000001"
    r = api.post("/0/odata/Contact", json={"Id": key, "Name": "Ghost"})
    assert r.status_code == 500 and r.json()["error"]["message"] == "An error has occurred."
    sandbox.set_faults(write_then_fail=False)
    assert api.get(f"/0/odata/Contact({key})").json()["Name"] == "Ghost"


async def test_writes_are_stored_in_postgresql(sandbox, api):
    c = api.post("/0/odata/Contact", json={"Name": "Durable Dan"}).json()
    conn = await asyncpg.connect(sandbox.settings.database_url)
    try:
        data = await conn.fetchval("SELECT data->>'Name' FROM sb_record WHERE entity = 'Contact' AND id = $1",
                                   uuid.UUID(c["Id"]))
    finally:
        await conn.close()
    assert data == "Durable Dan"


def test_stream_columns_put_get_delete(api):
    link = f"/0/odata/Contact({SUPERVISOR})/ContactPhoto"
    assert api.get(link).status_code == 204
    put = api.put(link, content=b"\x89PNG fake", headers={"Content-Type": "application/octet-stream"})
    assert put.status_code == 200
    assert api.get(link).content == b"\x89PNG fake"
    assert api.delete(link).status_code == 204 and api.get(link).status_code == 204


def test_custom_usr_entity_and_columns_via_admin(sandbox, api):
    sandbox.add_schema({"entities": {"UsrProject": {"UsrCode": "text", "UsrBudget": "decimal",
                                                    "UsrManager": "lookup:Contact"}},
                        "columns": {"Contact": {"UsrLoyalty": "int", "UsrProject": "lookup:UsrProject"}}})
    p = api.post("/0/odata/UsrProject", json={"Name": "Rollout", "UsrCode": "P-1", "UsrManagerId": SUPERVISOR})
    assert p.status_code == 201
    project = p.json()
    assert project["UsrBudget"] == 0 and project["UsrManagerId"] == SUPERVISOR and project["UsrCode"] == "P-1"
    c = api.post("/0/odata/Contact", json={"Name": "Custom Carl", "UsrLoyalty": 3, "UsrProjectId": project["Id"]})
    assert c.status_code == 201 and c.json()["UsrLoyalty"] == 3
    got = api.get("/0/odata/Contact", params={"$filter": "UsrProject/UsrCode eq 'P-1'", "$select": "Name",
                                              "$expand": "UsrProject($select=UsrCode)"}).json()["value"]
    assert got == [{"Name": "Custom Carl", "UsrProject": {"UsrCode": "P-1"}}]
    meta = api.get("/0/odata/$metadata").text
    assert '<EntityType Name="UsrProject">' in meta and '<Property Name="UsrLoyalty" Type="Edm.Int32"/>' in meta
    assert api.get(f"/0/odata/Contact({SUPERVISOR})").json()["UsrLoyalty"] == 0  # existing rows get the default


def test_custom_schema_rejects_names_without_the_usr_prefix(sandbox):
    with pytest.raises(RuntimeError, match="Usr"):
        sandbox.add_schema({"entities": {"Project": {"Code": "text"}}})
    with pytest.raises(RuntimeError, match="Usr"):
        sandbox.add_schema({"columns": {"Contact": {"Loyalty": "int"}}})


def test_reset_restores_the_seed_and_drops_custom_schema(sandbox, api):
    sandbox.add_schema({"entities": {"UsrThing": {"UsrCode": "text"}}})
    api.post("/0/odata/Contact", json={"Name": "Temporary"})
    api.patch(f"/0/odata/Contact({SUPERVISOR})", json={"JobTitle": "Changed"})
    sandbox.reset()
    fresh = sandbox.login()
    assert fresh.get("/0/odata/UsrThing").status_code == 404
    assert fresh.get("/0/odata/Contact/$count?$filter=Name eq 'Temporary'").text == "0"
    assert fresh.get(f"/0/odata/Contact({SUPERVISOR})/JobTitle/$value").text == "Administrator"
    fresh.close()
