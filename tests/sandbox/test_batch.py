"""$batch: JSON and multipart bodies, stop-on-error vs continue-on-error, atomicity groups, the 100 cap."""

import json
import re
import uuid

from .conftest import SUPERVISOR


def count(api, flt):
    return int(api.get("/0/odata/City/$count", params={"$filter": flt}).text)


def post_city(name, rid, group=None):
    req = {"method": "POST", "url": "City", "id": rid, "body": {"Name": name},
           "headers": {"Content-Type": "application/json;odata=verbose", "Accept": "application/json;odata=verbose"}}
    if group:
        req["atomicityGroup"] = group
    return req


def test_json_batch_runs_each_request_and_echoes_ids(sandbox, api):
    key = str(uuid.uuid4())
    r = api.post("/0/odata/$batch", json={"requests": [
        {"method": "POST", "url": "City", "id": "t1", "body": {"Id": key, "Name": "Burbank"}},
        {"method": "PATCH", "url": f"City/{key}", "id": "t2", "body": {"Name": "Texas"}},
        {"method": "GET", "url": f"City({key})?$select=Name", "id": "t3"},
        {"method": "DELETE", "url": f"{sandbox.base_url}/0/odata/City({key})", "id": "t4"},
    ]})
    assert r.status_code == 200
    out = r.json()["responses"]
    assert [(x["id"], x["status"]) for x in out] == [("t1", 201), ("t2", 204), ("t3", 200), ("t4", 204)]
    assert out[0]["headers"]["location"] == f"{sandbox.base_url}/0/odata/City({key})"
    assert out[0]["headers"]["odata-version"] == "4.0"
    assert out[0]["body"]["@odata.context"].endswith("$metadata#City/$entity") and out[0]["body"]["Name"] == "Burbank"
    assert out[2]["body"]["Name"] == "Texas"
    assert api.get(f"/0/odata/City({key})").status_code == 404


def test_batch_stops_at_the_first_failure_by_default(api):
    r = api.post("/0/odata/$batch", json={"requests": [
        post_city("Stop A", "1"),
        {"method": "POST", "url": "City", "id": "2", "body": {"Name": "Bad", "Nope": 1}},
        post_city("Stop C", "3"),
    ]})
    out = r.json()["responses"]
    assert r.status_code == 200
    assert [(x["id"], x["status"]) for x in out] == [("1", 201), ("2", 400)]
    assert out[1]["body"]["error"]["code"] == ""
    assert count(api, "Name eq 'Stop A'") == 1 and count(api, "Name eq 'Stop C'") == 0


def test_continue_on_error_runs_the_rest(api):
    r = api.post("/0/odata/$batch", headers={"Prefer": "continue-on-error"}, json={"requests": [
        post_city("Go A", "1"),
        {"method": "POST", "url": "City", "id": "2", "body": {"Name": "Bad", "CountryId": str(uuid.uuid4())}},
        post_city("Go C", "3"),
    ]})
    out = r.json()["responses"]
    assert [(x["id"], x["status"]) for x in out] == [("1", 201), ("2", 500), ("3", 201)]
    assert "foreign key" in out[1]["body"]["error"]["innererror"]["message"]
    assert count(api, "startswith(Name,'Go ')") == 2


def test_atomicity_group_is_all_or_nothing_and_gets_a_server_guid(api):
    r = api.post("/0/odata/$batch", headers={"Prefer": "continue-on-error"}, json={"requests": [
        post_city("Group A", "a", "g1"),
        post_city("Group B", "b", "g1"),
        {"method": "POST", "url": "City", "id": "c", "atomicityGroup": "g1", "body": {"Name": 42}},
        post_city("Outside", "d"),
    ]})
    out = r.json()["responses"]
    assert [(x["id"], x["status"]) for x in out] == [("c", 400), ("d", 201)]
    assert uuid.UUID(out[0]["atomicityGroup"]) and out[0]["atomicityGroup"] != "g1"
    assert count(api, "startswith(Name,'Group ')") == 0  # rolled back
    assert count(api, "Name eq 'Outside'") == 1


def test_successful_atomicity_group_shares_one_guid(api):
    out = api.post("/0/odata/$batch", json={"requests": [
        post_city("Pair A", "a", "grp"), post_city("Pair B", "b", "grp")]}).json()["responses"]
    assert [x["status"] for x in out] == [201, 201]
    assert out[0]["atomicityGroup"] == out[1]["atomicityGroup"] != "grp"
    assert count(api, "startswith(Name,'Pair ')") == 2


def test_more_than_100_operations_is_400(api):
    too_many = {"requests": [post_city(f"C{i}", str(i)) for i in range(101)]}
    r = api.post("/0/odata/$batch", json=too_many)
    assert r.status_code == 400 and "Only 100" in r.json()["error"]["message"]
    assert count(api, "startswith(Name,'C')") == 0
    ok = api.post("/0/odata/$batch", json={"requests": [post_city(f"Hundred{i}", str(i)) for i in range(100)]})
    assert ok.status_code == 200 and len(ok.json()["responses"]) == 100


def test_batch_operations_are_counted_each(sandbox, api):
    sandbox.reset_counts()
    api.post("/0/odata/$batch", json={"requests": [post_city("N1", "1"), post_city("N2", "2")]})
    counts = sandbox.counts()["requests"]
    assert counts["POST odata4.batch"] == 1 and counts["POST odata4.batch_op"] == 2


MULTIPART = (
    "--batch_1\r\n"
    "Content-Type: multipart/mixed; boundary=changeset_1\r\n\r\n"
    "--changeset_1\r\n"
    "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
    "POST City HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    '{"Name":"Multi A"}\r\n'
    "--changeset_1\r\n"
    "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n"
    "PATCH $1 HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    '{"Description":"patched via $1"}\r\n'
    "--changeset_1--\r\n"
    "--batch_1\r\n"
    "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    f"GET Contact({SUPERVISOR})?$select=Name HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n"
    "--batch_1--\r\n"
)


def test_multipart_batch_with_changeset_answers_multipart(api):
    r = api.post("/0/odata/$batch", content=MULTIPART.encode(),
                 headers={"Content-Type": "multipart/mixed; boundary=batch_1"})
    assert r.status_code == 200
    ctype = r.headers["content-type"]
    assert ctype.startswith("multipart/mixed; boundary=batchresponse_")
    text = r.text
    assert re.search(r"Content-Type: multipart/mixed; boundary=changesetresponse_", text)
    assert "HTTP/1.1 201 Created" in text and "HTTP/1.1 204 No Content" in text and "HTTP/1.1 200 OK" in text
    assert '"Name":"Supervisor"' in text
    made = api.get("/0/odata/City", params={"$filter": "Name eq 'Multi A'"}).json()["value"]
    assert made[0]["Description"] == "patched via $1"


def test_multipart_batch_answers_json_when_accept_asks_for_it(api):
    r = api.post("/0/odata/$batch", content=MULTIPART.encode(),
                 headers={"Content-Type": "multipart/mixed; boundary=batch_1", "Accept": "application/json"})
    out = r.json()["responses"]
    assert [x["status"] for x in out] == [201, 204, 200]
    assert out[0]["atomicityGroup"] == out[1]["atomicityGroup"] and "atomicityGroup" not in out[2]


def test_json_batch_answers_multipart_when_accept_asks_for_it(api):
    r = api.post("/0/odata/$batch", json={"requests": [post_city("Mixed", "1")]},
                 headers={"Accept": "multipart/mixed"})
    assert r.headers["content-type"].startswith("multipart/mixed") and "HTTP/1.1 201 Created" in r.text


def test_malformed_batches_are_400(api):
    assert api.post("/0/odata/$batch", json={"nope": []}).status_code == 400
    assert api.post("/0/odata/$batch", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/0/odata/$batch", content=b"x", headers={"Content-Type": "multipart/mixed"}).status_code == 400
    assert api.get("/0/odata/$batch").status_code == 405


def test_batch_needs_auth_like_any_request(anon):
    r = anon.post("/0/odata/$batch", content=json.dumps({"requests": []}), headers={"Content-Type": "application/json"})
    assert r.status_code == 401


def test_depends_on_a_failed_request_is_424_and_not_executed(api):
    r = api.post("/0/odata/$batch", headers={"Prefer": "continue-on-error"}, json={"requests": [
        {"method": "POST", "url": "City", "id": "1", "body": {"Name": "Dep", "Nope": True}},
        {"method": "POST", "url": "City", "id": "2", "dependsOn": ["1"], "body": {"Name": "Dependent"}},
        {"method": "POST", "url": "City", "id": "3", "body": {"Name": "Independent"}},
    ]})
    assert [(x["id"], x["status"]) for x in r.json()["responses"]] == [("1", 400), ("2", 424), ("3", 201)]
    assert count(api, "Name eq 'Dependent'") == 0 and count(api, "Name eq 'Independent'") == 1
