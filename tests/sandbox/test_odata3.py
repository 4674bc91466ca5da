"""OData 3 EntityDataService.svc: collections, guid'' keys and literals, verbose JSON, Atom, writes (§5)."""

import re

from defusedxml import ElementTree as ET

from .conftest import OUR_COMPANY, SUPERVISOR

ROOT = "/0/ServiceModel/EntityDataService.svc"
VERBOSE = {"Accept": "application/json;odata=verbose"}
WRITE = {**VERBOSE, "Content-Type": "application/json;odata=verbose"}


def test_keyed_read_is_verbose_json_with_metadata_and_deferred_links(sandbox, api):
    r = api.get(f"{ROOT}/ContactCollection(guid'{SUPERVISOR}')", headers=VERBOSE)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json;odata=verbose")
    d = r.json()["d"]
    uri = f"{sandbox.base_url}{ROOT}/ContactCollection(guid'{SUPERVISOR}')"
    assert d["__metadata"] == {"id": uri, "uri": uri, "type": "Terrasoft.Configuration.Contact"}
    assert d["Name"] == "Supervisor" and d["AccountId"] == OUR_COMPANY
    assert d["Account"] == {"__deferred": {"uri": f"{uri}/Account"}}
    assert re.fullmatch(r"/Date\(\d+\)/", d["CreatedOn"]) and d["BirthDate"] == "/Date(-62135596800000)/"
    assert '"\\/Date(' in r.text  # written with escaped slashes, as WCF does


def test_collection_filter_with_guid_and_datetime_literals(api):
    r = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE,
                params={"$filter": f"Account/Id eq guid'{OUR_COMPANY}' and CreatedOn gt datetime'2000-01-01T00:00'",
                        "$select": "Id,Name", "$inlinecount": "allpages"})
    d = r.json()["d"]
    assert d["__count"] == "1" and [x["Name"] for x in d["results"]] == ["Supervisor"]
    bare = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE, params={"$filter": f"Id eq {SUPERVISOR}"})
    assert bare.status_code == 400 and bare.json()["error"]["code"] == ""
    quoted = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE, params={"$filter": f"Id eq '{SUPERVISOR}'"})
    assert quoted.status_code == 400
    assert "incompatible with operand types 'System.Guid' and 'System.String'" in \
        quoted.json()["error"]["message"]["value"]
    sub = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE,
                  params={"$filter": "substringof('uperviso',Name)", "$select": "Name"}).json()["d"]["results"]
    assert sub == [{"__metadata": sub[0]["__metadata"], "Name": "Supervisor"}]


def test_flat_fk_filter_is_500_here_too(api):
    r = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE, params={"$filter": f"AccountId eq guid'{OUR_COMPANY}'"})
    assert r.status_code == 500
    assert r.json()["error"]["innererror"]["message"] == "Column by path AccountId not found in schema Contact"


def test_expand_with_nav_select_and_paging(api):
    d = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE,
                params={"$select": "Name,Account/Name", "$expand": "Account", "$filter": "Name eq 'Supervisor'"}
                ).json()["d"]["results"][0]
    assert d["Name"] == "Supervisor" and d["Account"]["Name"] == "Our company"
    page = api.get(f"{ROOT}/AccountCollection", headers=VERBOSE,
                   params={"$orderby": "Name desc", "$top": "3", "$skip": "1", "$select": "Name"}).json()["d"]
    assert len(page["results"]) == 3


def test_default_format_is_atom(api):
    r = api.get(f"{ROOT}/ContactCollection", params={"$top": "2", "$select": "Name"})
    assert r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 2
    term = entries[0].find("{http://www.w3.org/2005/Atom}category").get("term")
    assert term == "Terrasoft.Configuration.Contact"


def test_service_document_and_metadata(api):
    sets = api.get(f"{ROOT}/", headers=VERBOSE).json()["d"]["EntitySets"]
    assert "ContactCollection" in sets and "LeadCollection" in sets
    meta = api.get(f"{ROOT}/$metadata").text
    assert 'Namespace="Terrasoft.Configuration"' in meta and 'EntitySet Name="ContactCollection"' in meta


def test_create_update_delete_share_data_with_odata4(api):
    r = api.post(f"{ROOT}/ContactCollection", headers=WRITE,
                 json={"Name": "Old School", "AccountId": OUR_COMPANY, "BirthDate": "/Date(631152000000)/"})
    assert r.status_code == 201
    d = r.json()["d"]
    assert r.headers["location"].endswith(f"ContactCollection(guid'{d['Id']}')")
    assert d["GivenName"] == "Old" and d["BirthDate"] == "/Date(631152000000)/"
    v4 = api.get(f"/0/odata/Contact({d['Id']})").json()
    assert v4["Name"] == "Old School" and v4["BirthDate"] == "1990-01-01T00:00:00Z"
    key = f"{ROOT}/ContactCollection(guid'{d['Id']}')"
    assert api.request("MERGE", key, headers=WRITE, json={"JobTitle": "Merged"}).status_code == 204
    assert api.patch(key, headers=WRITE, json={"Phone": "+1 555"}).status_code == 204
    merged = api.get(f"/0/odata/Contact({d['Id']})").json()
    assert merged["JobTitle"] == "Merged" and merged["Phone"] == "+1 555"
    assert api.put(key, headers=WRITE, json={"Name": "Put Only"}).status_code == 204
    replaced = api.get(f"/0/odata/Contact({d['Id']})").json()
    assert replaced["Name"] == "Put Only" and replaced["JobTitle"] == "" and replaced["Phone"] == ""
    tunnelled = api.post(key, headers={**WRITE, "X-HTTP-Method": "MERGE"}, json={"Zip": "10115"})
    assert tunnelled.status_code == 204
    assert api.delete(key).status_code == 204
    missing = api.get(key, headers=VERBOSE)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"]["value"] == "Resource not found for the segment 'ContactCollection'."


def test_v3_errors_for_unknown_property_and_fk(api):
    r = api.post(f"{ROOT}/ContactCollection", headers=WRITE, json={"Name": "X", "Foo": 1})
    assert r.status_code == 400 and "'Foo'" in r.json()["error"]["message"]["value"]
    fk = api.post(f"{ROOT}/ContactCollection", headers=WRITE,
                  json={"Name": "X", "AccountId": "11111111-1111-1111-1111-111111111111"})
    assert fk.status_code == 500 and "23503" in fk.json()["error"]["innererror"]["message"]
    bad = api.get(f"{ROOT}/ContactCollection", headers=VERBOSE, params={"$select": "Foo"})
    assert bad.status_code == 400 and "No property 'Foo' exists" in bad.json()["error"]["message"]["value"]


def test_property_and_value_reads(api):
    key = f"{ROOT}/ContactCollection(guid'{SUPERVISOR}')"
    assert api.get(f"{key}/Name", headers=VERBOSE).json() == {"d": {"Name": "Supervisor"}}
    assert api.get(f"{key}/Name/$value").text == "Supervisor"
    assert api.get(f"{key}/Account", headers=VERBOSE).json()["d"]["Name"] == "Our company"
    assert int(api.get(f"{ROOT}/ContactCollection/$count").text) > 100


def test_v3_requires_the_same_auth(anon):
    assert anon.get(f"{ROOT}/ContactCollection", headers=VERBOSE).status_code == 401
