"""Admin API: fault injection (each mode, all off by default), counters, reset."""

import time
from datetime import datetime

import pytest

from .conftest import SUPERVISOR

KEYED = f"/0/odata/Contact({SUPERVISOR})"
LOGIN = "/ServiceModel/AuthService.svc/Login"


def test_every_fault_is_off_by_default(sandbox):
    f = sandbox.faults()
    assert f["latency_ms"] == 0 and f["error_rate"] == 0 and f["unavailable_rate"] == 0
    assert f["throttle_rate"] == 0 and f["fail_next"] == 0 and f["outage_seconds_left"] == 0
    assert f["write_then_fail"] is False and f["ram_limit"] is False
    assert f["expiry_mode"] == "401" and f["login_failure_mode"] == "200" and f["host_flavour"] == "netframework"
    assert f["session_timeout_seconds"] == 3600 and f["token_lifetime_seconds"] == 3600


def test_latency_is_added(sandbox, api):
    sandbox.set_faults(latency_ms=300)
    start = time.monotonic()
    assert api.get(KEYED).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_error_rate_answers_the_generic_500(sandbox, api):
    sandbox.set_faults(error_rate=1.0)
    r = api.get(KEYED)
    assert r.status_code == 500 and r.json()["error"]["message"] == "An error has occurred."
    assert r.json()["error"]["code"] == ""


def test_error_rate_as_html_page(sandbox, api):
    sandbox.set_faults(error_rate=1.0, error_html=True)
    r = api.get(KEYED)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Server Error in '/' Application." in r.text


def test_503_with_and_without_retry_after(sandbox, api):
    sandbox.set_faults(unavailable_rate=1.0)
    r = api.get(KEYED)
    assert r.status_code == 503 and "retry-after" not in r.headers
    sandbox.set_faults(unavailable_retry_after=7)
    assert api.get(KEYED).headers["retry-after"] == "7"


def test_429_with_retry_after(sandbox, api):
    sandbox.set_faults(throttle_rate=1.0, throttle_retry_after=3)
    r = api.get(KEYED)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"


def test_partial_error_rate_fails_some_requests(sandbox, api):
    sandbox.set_faults(error_rate=0.5)
    statuses = {api.get(KEYED).status_code for _ in range(60)}
    assert statuses == {200, 500}


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("html", 500), ("503", 503), ("429", 429)])
def test_fail_next_fails_exactly_n_requests(sandbox, api, kind, status):
    sandbox.set_faults(fail_next=2, fail_next_kind=kind)
    assert [api.get(KEYED).status_code for _ in range(3)] == [status, status, 200]


def test_outage_refuses_everything_including_login_then_recovers(sandbox, anon):
    sandbox.set_faults(outage_seconds=0.6)
    r = anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
    assert r.status_code == 503 and "Service Unavailable" in r.text
    assert anon.get("/0/odata/Contact").status_code == 503
    time.sleep(0.7)
    assert anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "Supervisor"}).json()["Code"] == 0


def test_fault_scope_data_spares_login(sandbox, anon):
    sandbox.set_faults(error_rate=1.0, fault_scope="data")
    r = anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
    assert r.json()["Code"] == 0
    assert anon.get("/0/odata/Contact", headers={"BPMCSRF": r.cookies["BPMCSRF"]}).status_code == 500


def test_ram_limit_fault(sandbox, api):
    sandbox.set_faults(ram_limit=True)
    r = api.get("/0/odata/Contact")
    assert r.status_code == 500 and "RAM consumption limit" in r.json()["error"]["innererror"]["message"]


def test_admin_endpoints_are_not_subject_to_faults(sandbox):
    sandbox.set_faults(error_rate=1.0, outage_seconds=5)
    assert sandbox.counts()["total"] >= 0
    sandbox.clear_faults()
    assert sandbox.faults()["outage_seconds_left"] == 0


def test_bad_fault_settings_are_refused(sandbox):
    with pytest.raises(RuntimeError, match="unknown fault setting"):
        sandbox.set_faults(nonsense=1)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        sandbox.set_faults(error_rate=2)
    with pytest.raises(RuntimeError, match="expiry_mode"):
        sandbox.set_faults(expiry_mode="500")


def test_counts_per_method_and_path_kind_and_reset(sandbox, api):
    sandbox.reset_counts()
    api.get(KEYED)
    api.get(KEYED)
    api.get("/0/odata/Contact?$top=1")
    api.post("/0/odata/Contact", json={"Name": "Counted"})
    api.get("/0/odata/Contact/$count")
    api.get(f"{KEYED}/Name")
    api.get("/0/ServiceModel/EntityDataService.svc/ContactCollection?$top=1")
    c = sandbox.counts()
    assert c["requests"] == {"GET odata4.entity": 2, "GET odata4.collection": 1, "POST odata4.collection": 1,
                             "GET odata4.count": 1, "GET odata4.property": 1, "GET odata3.collection": 1}
    assert c["total"] == 7 and c["by_method"] == {"GET": 6, "POST": 1}
    sandbox.reset_counts()
    assert sandbox.counts()["total"] == 0


def test_login_and_token_requests_are_counted(sandbox, anon):
    sandbox.reset_counts()
    anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "Supervisor"})
    anon.post("/connect/token", data={"client_id": "x", "client_secret": "y", "grant_type": "client_credentials"})
    assert sandbox.counts()["requests"] == {"POST auth": 1, "POST token": 1}


def test_reset_clears_faults_sessions_and_counters(sandbox, api):
    sandbox.set_faults(latency_ms=50, expiry_mode="302")
    api.get(KEYED)
    sandbox.reset()
    assert sandbox.faults()["latency_ms"] == 0 and sandbox.faults()["expiry_mode"] == "401"
    assert sandbox.counts()["total"] == 0
    assert api.get(KEYED).status_code == 401  # the session did not survive the reset


def test_unknown_admin_route_is_404(sandbox):
    r = sandbox.client().get("/_sandbox/nothing")
    assert r.status_code == 404


async def test_lost_database_connections_fail_one_write_then_recover(sandbox, api):
    import asyncpg

    assert api.post("/0/odata/Contact", json={"Name": "Before"}).status_code == 201
    conn = await asyncpg.connect(sandbox.settings.database_url)
    try:  # what a PostgreSQL restart does to the sandbox's pooled connections
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await conn.close()
    first = api.post("/0/odata/Contact", json={"Name": "During"})
    assert first.status_code in (201, 500)
    if first.status_code == 500:
        assert first.json()["error"]["message"] == "An error has occurred."
    statuses = [api.post("/0/odata/Contact", json={"Name": f"After {i}"}).status_code for i in range(3)]
    assert statuses[-1] == 201
    assert api.get("/0/odata/Contact/$count?$filter=startswith(Name,'After')").text == str(statuses.count(201))
    assert sandbox.client().get("/readyz").status_code == 200


def test_write_then_fail_next_fails_only_that_many_writes(sandbox, api):
    sandbox.set_faults(write_then_fail_next=1)
    key = "5b2d7e1a-0000-4000-8000-000000000042"
    first = api.post("/0/odata/Contact", json={"Id": key, "Name": "Once"})
    assert first.status_code == 500
    # The client's recipe: check the Id before retrying; the row is there, a blind retry is refused.
    assert api.get(f"/0/odata/Contact({key})").status_code == 200
    assert api.post("/0/odata/Contact", json={"Id": key, "Name": "Once"}).status_code == 500
    assert api.patch(f"/0/odata/Contact({key})", json={"JobTitle": "ok"}).status_code == 204
    assert api.get("/0/odata/Contact/$count?$filter=Name eq 'Once'").text == "1"


def test_session_timeout_accepts_long_values(sandbox):
    assert sandbox.set_faults(session_timeout_seconds=7200)["session_timeout_seconds"] == 7200


def test_new_custom_entity_waits_for_the_odata_rebuild(sandbox, api):
    sandbox.set_faults(odata_rebuild_seconds=0.5)
    sandbox.add_schema({"entities": {"UsrLate": {"UsrCode": "text"}}})
    early = api.get("/0/odata/UsrLate")
    assert early.status_code == 404 and "UsrLate" in early.json()["MessageDetail"]
    time.sleep(0.6)
    assert api.get("/0/odata/UsrLate").status_code == 200


def test_background_touch_moves_modified_on_after_create(sandbox, api):
    sandbox.set_faults(background_touch_ms=100)
    made = api.post("/0/odata/Contact", json={"Name": "Touched"}).json()
    time.sleep(0.3)
    later = api.get(f"/0/odata/Contact({made['Id']})").json()
    created, modified = (datetime.fromisoformat(later[k]) for k in ("CreatedOn", "ModifiedOn"))
    assert made["CreatedOn"] == made["ModifiedOn"]  # the POST echo had them equal
    assert (modified - created).total_seconds() >= 0.09
