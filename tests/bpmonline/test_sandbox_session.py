"""Sessions against the sandbox: login, CSRF, relogin in both expiry modes, OAuth, sharing."""

import asyncio
import json
import time

import pytest

from bpmlink.bpmonline import AuthError, BpmClient, BpmConnection, ConfigurationError, StepRecorder
from tests.bpmonline.fakes import settings


async def test_login_sends_csrf_and_reads(make_client, sbx):
    rec = StepRecorder()
    bpm = make_client()
    rows = await bpm.query("Contact", select=["Id", "Name"], top=2, recorder=rec)
    assert len(rows) == 2
    login, read = rec.steps
    assert login.url.endswith("/ServiceModel/AuthService.svc/Login") and login.status == 200
    assert read.status == 200 and read.url.split("?")[0].endswith("/0/odata/Contact")
    assert read.request_headers["bpmcsrf"] == "[redacted]"  # sent (the sandbox answers 403 without it)
    assert "crt_csrf" not in read.request_headers  # the .NET Framework flavour sets no CRT_CSRF cookie
    for step in (login, read):  # without it Creatio answers a session-less request with the login page
        assert step.request_headers["forceusesession"] == "true"
    assert read.request_headers["accept"] == "application/json"
    assert await sbx.logins() == 1


async def test_newer_builds_get_crt_csrf_too(make_client, sbx):
    await sbx.set_faults(newer_cookies=True)
    rec = StepRecorder()
    bpm = make_client()
    await bpm.query("Contact", top=1, recorder=rec)
    assert {"bpmcsrf", "crt_csrf"} <= set(rec.steps[-1].request_headers)
    cookies = {name: value for name, value, _, _ in bpm.session.state.cookies}
    assert bpm.session.auth_headers() == {"BPMCSRF": cookies["BPMCSRF"], "CRT_CSRF": cookies["CRT_CSRF"]}


@pytest.mark.parametrize("mode", ["401", "302"])
async def test_relogin_after_expiry(make_client, sbx, mode):
    await sbx.set_faults(expiry_mode=mode)
    bpm = make_client()
    await bpm.query("Contact", top=1)
    await sbx.expire_sessions()
    rec = StepRecorder()
    rows = await bpm.query("Contact", top=1, recorder=rec)
    assert len(rows) == 1
    assert [s.status for s in rec.steps] == [int(mode), 200, 200]  # dead, login, retried read
    assert await sbx.logins() == 2


async def test_session_timeout_expiry_relogs_in(make_client, sbx):
    await sbx.set_faults(session_timeout_seconds=1)
    bpm = make_client()
    await bpm.query("Contact", top=1)
    await asyncio.sleep(1.2)
    await bpm.query("Contact", top=1)
    assert await sbx.logins() == 2


async def test_session_is_shared_through_redis(make_client, sbx):
    first, second = make_client(), make_client()  # two "processes" of one connection
    await first.query("Contact", top=1)
    await second.query("Contact", top=1)
    assert await sbx.logins() == 1
    assert first.session.state.generation == second.session.state.generation


async def test_concurrent_relogins_share_one_login(make_client, sbx):
    clients = [make_client() for _ in range(3)]
    await clients[0].query("Contact", top=1)
    await asyncio.gather(*(c.query("Contact", top=1) for c in clients[1:]))
    assert await sbx.logins() == 1
    await sbx.expire_sessions()
    # Two tasks per client, three clients standing for processes: all hit 401 at once.
    await asyncio.gather(*(c.query("Contact", top=1) for c in clients for _ in range(2)))
    assert await sbx.logins() == 2


async def test_stored_session_is_encrypted(make_client, sbx, aredis):
    bpm = make_client()
    await bpm.query("Contact", top=1)
    raw = await aredis.get(bpm.session.key)
    aspx = next(v for n, v, _, _ in bpm.session.state.cookies if n == ".ASPXAUTH")
    assert raw and aspx.encode() not in raw and b".ASPXAUTH" not in raw


async def test_oauth_token_refresh_before_expiry_and_after_revocation(make_client, sbx):
    bpm = make_client(auth="oauth", client_id="bpmlink-sandbox", client_secret="bpmlink-sandbox-secret",
                      username="")
    rec = StepRecorder()
    await bpm.query("Contact", top=1, recorder=rec)
    assert rec.steps[1].request_headers["authorization"] == "[redacted]"
    assert "bpmcsrf" not in rec.steps[1].request_headers
    await bpm.query("Contact", top=1)
    assert await sbx.tokens() == 1
    # 29 s before the (3600 s) token expires: renewed although the server would still take it.
    bpm.session.clock = lambda: time.time() + 3600 - 29
    await bpm.query("Contact", top=1)
    assert await sbx.tokens() == 2
    await sbx.expire_sessions()  # the server forgets the token: 401 → new token, retried once
    await bpm.query("Contact", top=1)
    assert await sbx.tokens() == 3


async def test_tokens_shorter_than_the_margin_are_renewed_per_call(make_client, sbx):
    await sbx.set_faults(token_lifetime_seconds=1)  # shorter than our margin: renewed every call
    bpm = make_client(auth="oauth", client_id="bpmlink-sandbox", client_secret="bpmlink-sandbox-secret")
    await bpm.query("Contact", top=1)
    await bpm.query("Contact", top=1)
    assert await sbx.tokens() == 2


async def test_oauth_bad_secret(make_client):
    bpm = make_client(auth="oauth", client_id="bpmlink-sandbox", client_secret="wrong")
    with pytest.raises(AuthError) as info:
        await bpm.query("Contact", top=1)
    assert info.value.code == "invalid_client"


async def test_wrong_password_both_failure_modes(make_client, sbx):
    with pytest.raises(AuthError) as info:
        await make_client(password="nope").query("Contact", top=1)
    assert info.value.code == "wrong_credentials" and "Invalid username or password" in info.value.message
    await sbx.set_faults(login_failure_mode="401")
    with pytest.raises(AuthError, match="Authentication failed"):
        await make_client(password="nope", id="other").query("Contact", top=1)


async def test_a_burst_with_a_wrong_password_tries_once(make_client, sbx):
    await sbx.admin("POST", "/users", {"name": "burst", "password": "right"})
    bpm = make_client(username="burst", password="wrong", id="burst")
    results = await asyncio.gather(*(bpm.query("Contact", top=1) for _ in range(8)), return_exceptions=True)
    assert all(isinstance(r, AuthError) and r.code == "wrong_credentials" for r in results)
    assert await sbx.logins() == 1  # far below the lockout threshold
    fixed = make_client(username="burst", password="right", id="burst")  # the user corrects it
    assert len(await fixed.query("Contact", top=1)) == 1


async def test_connection_test_outcomes(make_client, sbx):
    ok = await make_client().test()
    assert ok.ok and ok.stage == "done"
    wrong = await make_client(password="bad").test()
    assert (wrong.ok, wrong.stage, wrong.code) == (False, "login", "wrong_credentials")
    await sbx.admin("POST", "/users", {"name": "locky", "password": "right"})
    await sbx.set_faults(lockout_attempts=2)
    for _ in range(2):
        await make_client(username="locky", password="bad", id="locky").test()
    locked = await make_client(username="locky", password="right", id="locky").test()
    assert (locked.stage, locked.code) == ("login", "user_locked")
    assert "locked" in locked.message.lower()
    prefix = await make_client(path_prefix="", username="Supervisor", id="netcore-guess",
                               password="Supervisor").test()
    # A .NET Framework host: /odata without /0 is a 404, the probe finds /0/odata.
    assert (prefix.ok, prefix.stage, prefix.code) == (False, "odata", "wrong_prefix")


async def test_connection_test_with_oauth_and_odata3(make_client):
    oauth = await make_client(auth="oauth", client_id="bpmlink-sandbox", client_secret="bpmlink-sandbox-secret",
                              id="t-oauth").test()
    assert oauth.ok and "OAuth client bpmlink-sandbox" in oauth.message
    v3 = await make_client(odata_version=3, id="t-v3").test()
    assert v3.ok and "OData 3" in v3.message


async def test_connection_refused_is_explained(sandbox_settings):
    conn = BpmConnection(id="refused", domain="http://127.0.0.1:9", username="u", password="p")
    async with BpmClient(conn, settings=sandbox_settings) as bpm:
        result = await bpm.test()
    assert (result.ok, result.stage, result.code) == (False, "connect", "connection_refused")


async def test_sandbox_is_refused_without_allow_list(sbx):
    conn = BpmConnection(id="ssrf", domain=sbx.base_url, username="Supervisor", password="Supervisor")
    async with BpmClient(conn, settings=settings()) as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.query("Contact", top=1)
        result = await bpm.test()
    assert info.value.code == "blocked_address"
    assert (result.ok, result.stage, result.code) == (False, "address", "blocked_address")
    assert await sbx.logins() == 0


async def test_steps_hold_no_secret(make_client, sbx):
    await sbx.admin("POST", "/users", {"name": "integration", "password": "P@ss-w0rd-XYZ"})
    await sbx.set_faults(newer_cookies=True)
    rec = StepRecorder()
    bpm = make_client(username="integration", password="P@ss-w0rd-XYZ")
    created = await bpm.create("Contact", {"Name": "Steps Test"}, recorder=rec)
    await sbx.expire_sessions()
    await bpm.get("Contact", created["Id"], recorder=rec)
    secrets = [v for _, v, _, _ in bpm.session.state.cookies if len(v) > 8] + ["P@ss-w0rd-XYZ"]
    oauth = make_client(auth="oauth", client_id="bpmlink-sandbox", client_secret="bpmlink-sandbox-secret",
                        id="steps-oauth")
    await oauth.query("Contact", top=1, recorder=rec)
    secrets += [oauth.session.state.token, "bpmlink-sandbox-secret"]
    dumped = json.dumps([s.to_dict() for s in rec])
    assert len(rec) == 7  # login, create, 401, login, get, token, read
    for secret in secrets:
        assert secret not in dumped


async def test_a_connection_tests_words_are_codes_with_params_in_either_language(make_client):
    ok = await make_client().test()
    assert ok.words.code == "connected_as_user" and ok.words.params["count"] == 1
    assert ok.words.render("ru") == "Подключено как Supervisor: OData 4 работает (прочитана 1 запись Contact)."
    assert ok.to_dict("en")["message"] == ok.message == ok.words.text
    wrong = (await make_client(password="bad", id="wrong-ru").test()).to_dict("ru")
    assert (wrong["stage"], wrong["message_code"]) == ("login", "login_wrong_credentials")
    assert wrong["message"] == "Неверное имя пользователя или пароль"
    assert "Invalid username or password" in wrong["remote"]  # bpm'online's own words, kept apart
