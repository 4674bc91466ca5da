"""OData 4 reads: service document, $metadata, keys, properties, query options, limits, routing."""

from defusedxml import ElementTree as ET

from .conftest import EMPTY, OUR_COMPANY, SUPERVISOR

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"


def test_service_document_lists_the_entity_sets(api):
    r = api.get("/0/odata/")
    body = r.json()
    assert body["@odata.context"].endswith("/0/odata/$metadata")
    names = {s["name"] for s in body["value"]}
    for expected in ("Contact", "Account", "Lead", "Activity", "Case", "Opportunity", "Employee", "ContactType",
                     "AccountType", "LeadType", "LeadSource", "ActivityCategory", "ActivityStatus",
                     "ActivityPriority", "ActivityType", "Country", "City", "Region"):
        assert expected in names
    assert r.headers["odata-version"] == "4.0"


def test_metadata_is_csdl4_with_lookups_as_id_plus_navigation(api):
    r = api.get("/0/odata/$metadata")
    assert r.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema.get("Namespace") == "Terrasoft.Configuration.OData"
    contact = schema.find(f"{EDM}EntityType[@Name='Contact']")
    props = {p.get("Name"): p.get("Type") for p in contact.findall(f"{EDM}Property")}
    assert props["Id"] == "Edm.Guid" and props["AccountId"] == "Edm.Guid" and props["Name"] == "Edm.String"
    assert props["CreatedOn"] == "Edm.DateTimeOffset" and props["ContactPhoto"] == "Edm.Stream"
    assert props["Age"] == "Edm.Int32" and props["DoNotUseEmail"] == "Edm.Boolean"
    assert contact.find(f"{EDM}Key/{EDM}PropertyRef").get("Name") == "Id"
    nav = contact.find(f"{EDM}NavigationProperty[@Name='Account']")
    assert nav.get("Type") == "Terrasoft.Configuration.OData.Account"
    rc = nav.find(f"{EDM}ReferentialConstraint")
    assert rc.get("Property") == "AccountId" and rc.get("ReferencedProperty") == "Id"
    lead = schema.find(f"{EDM}EntityType[@Name='Lead']")
    assert lead.find(f"{EDM}Property[@Name='BusinesPhone']") is not None
    assert schema.find(f"{EDM}EntityContainer/{EDM}EntitySet[@Name='Contact']") is not None


def test_seed_has_the_well_known_ids_and_hundreds_of_bilingual_records(api):
    supervisor = api.get(f"/0/odata/Contact({SUPERVISOR})").json()
    assert supervisor["Name"] == "Supervisor" and supervisor["AccountId"] == OUR_COMPANY
    assert api.get(f"/0/odata/Account({OUR_COMPANY})").json()["Name"] == "Our company"
    for entity, key, name in [("ActivityType", "fbe0acdc-cfc0-df11-b00f-001d60e938c6", "Task"),
                              ("ActivityCategory", "f2c0ce0e-cfc1-df11-b00f-001d60e938c6", "To do"),
                              ("ActivityStatus", "384d4b84-58e6-df11-971b-001d60e938c6", "Not started"),
                              ("ActivityPriority", "ab96fa02-7fe6-df11-971b-001d60e938c6", "Medium")]:
        assert api.get(f"/0/odata/{entity}({key})/Name/$value").text == name
    total = sum(int(api.get(f"/0/odata/{e}/$count").text) for e in ("Contact", "Account", "Lead", "Activity"))
    assert total > 300
    names = [c["Name"] for c in api.get("/0/odata/Contact?$select=Name").json()["value"]]
    assert any("а" <= ch <= "я" for n in names for ch in n.lower())  # Cyrillic
    assert any(n.isascii() and " " in n for n in names)


def test_keyed_get_returns_every_column_with_creatio_empty_values(api):
    r = api.get(f"/0/odata/Contact({SUPERVISOR})")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json; odata.metadata=minimal")
    c = r.json()
    assert c["@odata.context"].endswith("/0/odata/$metadata#Contact/$entity")
    assert c["SalutationTypeId"] == EMPTY  # empty lookup: empty GUID, not null
    assert c["Phone"] == ""  # empty text
    assert c["BirthDate"] == "0001-01-01T00:00:00Z"  # empty date
    assert c["ProcessListeners"] == 0 and c["CreatedById"] == SUPERVISOR
    assert c["ContactPhoto@odata.mediaReadLink"] == f"Contact({SUPERVISOR})/ContactPhoto"
    assert "ContactPhoto" not in c
    assert all(v is not None for v in c.values())


def test_key_as_segment_and_named_key_forms(api):
    assert api.get(f"/0/odata/Contact/{SUPERVISOR}").json()["Name"] == "Supervisor"
    assert api.get(f"/0/odata/Contact(Id={SUPERVISOR})").json()["Name"] == "Supervisor"


def test_missing_key_is_404_and_bad_key_is_400(api):
    assert api.get("/0/odata/Contact(11111111-2222-3333-4444-555555555555)").status_code == 404
    r = api.get("/0/odata/Contact(guid'11111111-2222-3333-4444-555555555555')")
    assert r.status_code == 400 and r.json()["error"]["code"] == ""


def test_property_value_and_count_endpoints(api):
    prop = api.get(f"/0/odata/Contact({SUPERVISOR})/Email").json()
    assert prop == {"@odata.context": prop["@odata.context"], "value": "supervisor@example.com"}
    assert prop["@odata.context"].endswith(f"$metadata#Contact({SUPERVISOR})/Email")
    raw = api.get(f"/0/odata/Contact({SUPERVISOR})/Email/$value")
    assert raw.text == "supervisor@example.com" and raw.headers["content-type"].startswith("text/plain")
    count = api.get("/0/odata/Contact/$count", headers={"Accept": "text/plain"})
    assert count.headers["content-type"].startswith("text/plain")
    all_rows = api.get("/0/odata/Contact?$select=Id").json()["value"]
    assert int(count.text) == len(all_rows)
    filtered = api.get("/0/odata/Contact/$count?$filter=Name eq 'Supervisor'")
    assert filtered.text == "1"


def test_navigation_member_returns_the_referenced_entity(api):
    acc = api.get(f"/0/odata/Contact({SUPERVISOR})/Account").json()
    assert acc["Id"] == OUR_COMPANY and acc["@odata.context"].endswith("#Account/$entity")


def test_select_narrows_columns_and_the_context(api):
    body = api.get("/0/odata/Contact?$select=Id,Name&$top=3").json()
    assert body["@odata.context"].endswith("$metadata#Contact(Id,Name)")
    assert all(set(row) == {"Id", "Name"} for row in body["value"]) and len(body["value"]) == 3
    one = api.get(f"/0/odata/Contact({SUPERVISOR})?$select=Name").json()
    assert one["@odata.context"].endswith("$metadata#Contact(Name)/$entity") and one["Name"] == "Supervisor"


def test_expand_nests_the_lookup_next_to_the_flat_id(api):
    body = api.get(f"/0/odata/Contact({SUPERVISOR})?$expand=Account").json()
    assert body["@odata.context"].endswith("$metadata#Contact(Account())/$entity")
    assert body["AccountId"] == OUR_COMPANY and body["Account"]["Name"] == "Our company"
    nested = api.get(f"/0/odata/Contact({SUPERVISOR})?$select=Name&$expand=Account($select=Name),Salutation"
                     "Type").json()
    assert nested["Account"] == {"Name": "Our company"} and nested["SalutationType"] is None
    bad = api.get("/0/odata/Contact?$expand=Name")
    assert bad.status_code == 400 and "not a navigation property" in bad.json()["error"]["message"]


def test_count_true_adds_the_total_and_top_0_returns_only_it(api):
    total = int(api.get("/0/odata/Account/$count").text)
    body = api.get("/0/odata/Account?$count=true&$top=0").json()
    assert body["@odata.count"] == total and body["value"] == []
    page = api.get("/0/odata/Account?$count=true&$top=5&$skip=2").json()
    assert page["@odata.count"] == total and len(page["value"]) == 5


def test_orderby_top_skip_page_without_next_link(api):
    full = api.get("/0/odata/Account?$select=Name,Id&$orderby=Name asc,Id").json()["value"]
    assert [a["Name"] for a in full] == sorted(a["Name"] for a in full)
    pages = []
    for skip in range(0, len(full), 7):
        page = api.get(f"/0/odata/Account?$select=Name,Id&$orderby=Name asc,Id&$top=7&$skip={skip}").json()
        assert "@odata.nextLink" not in page
        pages += page["value"]
    assert pages == full
    desc = api.get("/0/odata/Account?$select=Name&$orderby=Name desc&$top=1").json()["value"][0]
    assert desc["Name"] == max(a["Name"] for a in full)
    by_nav = api.get("/0/odata/Contact?$select=Name&$orderby=Account/Name desc,Name&$top=1").status_code
    assert by_nav == 200


def test_result_size_is_capped_silently(sandbox, api):
    sandbox.set_faults(max_rows=5)  # the cap defaults to 20 000; lowered to keep the test cheap
    assert sandbox.faults()["max_rows"] == 5
    body = api.get("/0/odata/Contact?$top=100&$count=true").json()
    assert len(body["value"]) == 5 and body["@odata.count"] > 100 and "@odata.nextLink" not in body


def test_default_cap_is_twenty_thousand(sandbox):
    sandbox.clear_faults()
    assert sandbox.faults()["max_rows"] == 20_000


def test_unknown_select_reports_only_the_first_name(api):
    r = api.get("/0/odata/Contact?$select=Name,Foo,Bar")
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "", "message": "The query specified in the URI is not valid. Could not "
                        "find a property named 'Foo' on type 'Terrasoft.Configuration.OData.Contact'.",
                        "innererror": {"message": "Could not find a property named 'Foo' on type "
                                       "'Terrasoft.Configuration.OData.Contact'.", "type": "", "stacktrace": ""}}}


def test_selecting_a_stream_column_is_500(api):
    r = api.get("/0/odata/Contact?$select=Name,ContactPhoto")
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["message"] == "An error has occurred."
    assert err["innererror"]["message"].startswith("Value cannot be null")


def test_invalid_query_options_are_400(api):
    assert api.get("/0/odata/Contact?$search=x").status_code == 400
    assert api.get("/0/odata/Contact?$top=-1").json()["error"]["message"].endswith(
        "The $top query option requires a non-negative integer value.")
    assert api.get("/0/odata/Contact?$skip=abc").status_code == 400
    assert api.get("/0/odata/Contact?$count=yes").status_code == 400
    assert api.get("/0/odata/Contact?$top=1&$top=2").status_code == 400
    assert api.get("/0/odata/Contact?$orderby=Foo").status_code == 400
    assert api.get("/0/odata/Contact?custom=ignored&$top=1").status_code == 200


def test_unknown_entity_set_is_a_routing_404(api):
    r = api.get("/0/odata/UsrNothing")
    assert r.status_code == 404
    assert r.json()["MessageDetail"] == "No type was found that matches the controller named 'UsrNothing'."


def test_prefix_depends_on_the_host_flavour(sandbox, api):
    framework = api.get("/odata/Contact/$count")
    assert framework.status_code == 404 and framework.headers["content-type"].startswith("text/html")
    assert api.get("/ServiceModel/EntityDataService.svc/ContactCollection").status_code == 404
    sandbox.set_faults(host_flavour="netcore")
    assert api.get("/odata/Contact/$count").status_code == 200
    assert api.get("/0/odata/Contact/$count").status_code == 200  # both prefixes on .NET Core


def test_put_on_an_entity_is_405(api):
    r = api.put(f"/0/odata/Contact({SUPERVISOR})", json={"Name": "x"})
    assert r.status_code == 405


def test_health_endpoints(sandbox, anon):
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json() == {"status": "ok"}


def test_ieee754_compatible_accept_writes_decimals_as_strings(api):
    made = api.post("/0/odata/Opportunity", json={"Title": "Big deal", "Amount": "12500.5", "Probability": 30}).json()
    assert made["Amount"] == 12500.5  # plain Accept: numbers
    strict = api.get(f"/0/odata/Opportunity({made['Id']})",
                     headers={"Accept": "application/json; IEEE754Compatible=true"})
    assert strict.json()["Amount"] == "12500.5" and strict.json()["Probability"] == 30
    assert "IEEE754Compatible=true" in strict.headers["content-type"]
    listed = api.get("/0/odata/Opportunity", params={"$filter": "Title eq 'Big deal'", "$select": "Amount"},
                     headers={"Accept": "application/json;IEEE754Compatible=true"}).json()["value"]
    assert listed == [{"Amount": "12500.5"}]
