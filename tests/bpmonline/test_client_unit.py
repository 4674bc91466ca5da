"""BpmClient against a scripted Creatio (MockTransport): cases the sandbox cannot produce."""

import json
import uuid

import httpx
import pytest

from bpmlink.bpmonline import (
    AuthError,
    BatchOp,
    BpmClient,
    BpmClientPool,
    BpmConnection,
    ConfigurationError,
    NotFoundError,
)
from tests.bpmonline.fakes import DOMAIN, FakeCreatio, forms_connection, odata

LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Creatio</title></head><body>bootstrap.login</body></html>"


async def test_success_without_session_cookie_is_a_failure():
    def handler(request):
        return httpx.Response(200, json={"Code": 0, "Message": ""}, request=request)

    fake = FakeCreatio(login=handler)
    async with fake.client() as bpm:
        with pytest.raises(AuthError) as info:
            await bpm.query("Contact")
    assert info.value.code == "no_session_cookie"


async def test_html_instead_of_json_relogs_in_once_and_retries():
    answers = iter([httpx.Response(200, html=LOGIN_PAGE), httpx.Response(200, json={"value": [{"Id": "1"}]})])
    fake = FakeCreatio(data=lambda r: next(answers))
    async with fake.client() as bpm:
        rows = await bpm.query("Contact")
    assert rows == [{"Id": "1"}]
    assert fake.count("/Login") == 2


async def test_a_dead_session_after_relogin_is_not_retried_forever():
    fake = FakeCreatio(data=lambda r: httpx.Response(401, json={"Message": "Authentication failed."}))
    async with fake.client() as bpm:
        with pytest.raises(AuthError) as info:
            await bpm.query("Contact")
    assert info.value.code == "session_rejected"
    assert fake.count("/Login") == 2
    assert fake.count("/Contact") == 2


async def test_other_redirects_are_configuration_errors():
    fake = FakeCreatio(data=lambda r: httpx.Response(301, headers={"Location": "https://elsewhere.example/"}))
    async with fake.client() as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.query("Contact")
    assert info.value.code == "redirected"
    assert fake.count("/Login") == 1


async def test_routing_error_with_200_is_not_found():
    body = {"Message": "No HTTP resource was found that matches the request URI.",
            "MessageDetail": "No type was found that matches the controller named 'UsrThing'."}
    fake = FakeCreatio(data=lambda r: httpx.Response(200, json=body))
    async with fake.client() as bpm:
        with pytest.raises(NotFoundError) as info:
            await bpm.query("UsrThing")
    assert info.value.code == "unknown_entity"


def _oauth_connection(**kw):
    return BpmConnection(id=f"oauth-{uuid.uuid4().hex[:6]}", domain=DOMAIN, auth="oauth",
                         client_id="cid", client_secret="csecret", **kw)


async def test_oauth_uses_the_configured_token_url_and_reports_bad_clients():
    fake = FakeCreatio(token=lambda r: httpx.Response(400, json={"error": "invalid_client"}))
    conn = _oauth_connection(token_url="https://crm-is.example.com/connect/token")
    async with fake.client(conn) as bpm:
        with pytest.raises(AuthError) as info:
            await bpm.query("Contact")
    assert info.value.code == "invalid_client"
    assert fake.seen[0].url.host == "crm-is.example.com"


async def test_odata3_dialect_paths_and_envelopes():
    rid = uuid.uuid4()

    def data(request):
        if request.url.path.endswith(f"ContactCollection(guid'{rid}')"):
            return httpx.Response(200, json={"d": {"__metadata": {"uri": "x"}, "Id": str(rid),
                                                   "Account": {"__deferred": {"uri": "y"}},
                                                   "CreatedOn": "/Date(1700000000000)/"}})
        return httpx.Response(200, json={"d": {"results": [{"Id": str(rid)}], "__count": "1"}})

    fake = FakeCreatio(data=data)
    async with fake.client(forms_connection(odata_version=3)) as bpm:
        assert await bpm.get("Contact", rid) == {"Id": str(rid), "CreatedOn": "2023-11-14T22:13:20Z"}
        assert await bpm.query("Contact") == [{"Id": str(rid)}]
        assert await bpm.count("Contact") == 1
    assert fake.seen[1].url.path == f"/0/ServiceModel/EntityDataService.svc/ContactCollection(guid'{rid}')"
    assert fake.seen[1].headers["Accept"] == "application/json;odata=verbose"


async def test_create_idempotent_returns_the_existing_record_on_retry():
    rid = uuid.uuid4()
    fake = FakeCreatio(data=lambda r: odata(r, {"value": [{"Id": str(rid), "Name": "Jane"}]}))
    async with fake.client() as bpm:
        result = await bpm.create_idempotent("Contact", {"Name": "Jane"}, rid)
    assert not result.created and result.record["Name"] == "Jane"
    assert all(r.method == "GET" for r in fake.seen[1:])


async def test_create_idempotent_resolves_a_duplicate_key_race():
    rid = uuid.uuid4()
    dup = {"error": {"code": "", "message": "An error has occurred.", "innererror": {
        "message": "Violation of PRIMARY KEY constraint 'PKContact'. Cannot insert duplicate key."}}}
    finds = iter([[], [{"Id": str(rid)}]])

    def data(request):
        if request.method == "POST":
            return odata(request, dup, 500)
        return odata(request, {"value": next(finds)})

    fake = FakeCreatio(data=data)
    async with fake.client() as bpm:
        result = await bpm.create_idempotent("Contact", {"Name": "Jane"}, rid)
    assert not result.created and result.record == {"Id": str(rid)}


async def test_batch_maps_results_by_id_and_marks_unexecuted_ops():
    def data(request):
        body = json.loads(request.content)
        assert [r["url"] for r in body["requests"]][0] == "Contact"
        return odata(request, {"responses": [
            {"id": "1", "status": 201, "body": {"@odata.context": "x", "Id": "a"}},
            {"id": "2", "status": 400, "body": {"error": {"code": "", "message": "Bad field"}}},
        ]})

    fake = FakeCreatio(data=data)
    ops = [BatchOp.create("Contact", {"Name": "A"}), BatchOp.update("Contact", uuid.uuid4(), {"X": 1}),
           BatchOp.delete("Contact", uuid.uuid4())]
    async with fake.client() as bpm:
        results = await bpm.batch(ops)
    assert [r.ok for r in results] == [True, False, False]
    assert results[0].body == {"Id": "a"}
    assert results[1].error.message == "Bad field" and results[1].executed
    assert not results[2].executed
    assert "Prefer" not in fake.seen[-1].headers
    assert fake.seen[-1].url.path == "/0/odata/$batch"


async def test_batch_refuses_more_than_100_ops():
    fake = FakeCreatio()
    async with fake.client() as bpm:
        with pytest.raises(ValueError, match="at most 100"):
            await bpm.batch([BatchOp.delete("Contact", uuid.uuid4())] * 101)


async def test_test_reports_odata3_only():
    def data(request):
        if "/EntityDataService.svc" in request.url.path:
            return httpx.Response(200, json={"d": {"EntitySets": ["ContactCollection"]}})
        return httpx.Response(404, html="<html><title>404 - File or directory not found.</title></html>")

    fake = FakeCreatio(data=data)
    async with fake.client() as bpm:
        result = await bpm.test()
    assert (result.ok, result.stage, result.code) == (False, "odata", "odata3_only")


async def test_test_reports_no_odata():
    fake = FakeCreatio(data=lambda r: httpx.Response(404, html="<html><title>Not Found</title></html>"))
    async with fake.client() as bpm:
        result = await bpm.test()
    assert (result.ok, result.stage, result.code) == (False, "odata", "no_odata")


async def test_test_reports_wrong_domain():
    fake = FakeCreatio(login=lambda r: httpx.Response(404, html="<html><title>Not Found</title></html>"))
    async with fake.client() as bpm:
        result = await bpm.test()
    assert (result.ok, result.stage, result.code) == (False, "login", "wrong_domain")


async def test_html_even_after_relogin_is_a_configuration_error():
    fake = FakeCreatio(data=lambda r: httpx.Response(200, html=LOGIN_PAGE))
    async with fake.client() as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.metadata(refresh=True)
        result = await bpm.test()
    assert info.value.code == "html_instead_of_data"
    assert fake.count("/Login") >= 2
    assert (result.ok, result.stage) == (False, "read")


async def test_metadata_that_is_not_csdl_is_a_configuration_error():
    fake = FakeCreatio(data=lambda r: httpx.Response(200, text="{}", headers={"content-type": "application/xml"}))
    async with fake.client() as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.metadata(refresh=True)
    assert info.value.code == "metadata_not_xml"


async def test_test_explains_a_redirect_to_login_after_a_fresh_login():
    fake = FakeCreatio(data=lambda r: httpx.Response(302, headers={"Location": "/0/Login/NuiLogin.aspx"}))
    async with fake.client() as bpm:
        result = await bpm.test()
    assert (result.ok, result.stage, result.code) == (False, "odata", "session_rejected")
    assert "login page" in result.message


async def test_an_answer_of_the_other_odata_version_is_explained():
    fake = FakeCreatio(data=lambda r: odata(r, {"d": {"results": []}}))
    async with fake.client() as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.query("Contact")
    assert info.value.code == "unexpected_answer" and "OData version" in info.value.message


async def test_sessions_survive_a_redis_outage():
    import redis.asyncio as aioredis

    from tests.bpmonline.fakes import settings

    dead = aioredis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    fake = FakeCreatio()
    bpm = BpmClient(forms_connection(), settings=settings(), redis=dead, transport=httpx.MockTransport(fake))
    async with bpm:
        assert await bpm.query("Contact") == []
        assert await bpm.query("Contact") == []
    assert fake.count("/Login") == 1
    await dead.aclose()


async def test_client_pool_reuses_a_client_until_the_connection_changes():
    from tests.bpmonline.fakes import settings

    pool = BpmClientPool(settings=settings())
    conn = forms_connection()
    first = await pool.get(conn)
    assert await pool.get(conn) is first
    changed = await pool.get(BpmConnection(**{**conn.__dict__, "password": "new"}))
    assert changed is not first and first._http.is_closed
    await pool.aclose()
    assert changed._http.is_closed
