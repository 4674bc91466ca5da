"""Forms login, CSRF, session expiry (both modes), logout, lockout, OAuth client credentials."""

import re
import time

import httpx

from .conftest import SUPERVISOR

LOGIN = "/ServiceModel/AuthService.svc/Login"
CREDS = {"UserName": "Supervisor", "UserPassword": "Supervisor"}
WCF_FAULT = {"Message": "Authentication failed.", "StackTrace": None,
             "ExceptionType": "System.InvalidOperationException"}


def set_cookies(resp: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.get_list("set-cookie")}


def test_login_answers_code_0_and_sets_the_real_cookies(anon):
    r = anon.post(LOGIN, json={**CREDS, "TimeZoneOffset": -180}, headers={"ForceUseSession": "true"})
    assert r.status_code == 200
    assert r.json() == {"Code": 0, "Message": "", "Exception": None, "PasswordChangeUrl": None, "RedirectUrl": None}
    cookies = set_cookies(r)
    assert re.fullmatch(r"[0-9A-F]{200,}", r.cookies[".ASPXAUTH"])
    assert "HttpOnly" in cookies[".ASPXAUTH"]
    assert re.fullmatch(r"[A-Za-z0-9./]{22}", r.cookies["BPMCSRF"])
    assert "HttpOnly" not in cookies["BPMCSRF"] and "path=/" in cookies["BPMCSRF"]
    assert re.fullmatch(r"[a-z0-9]{24}", r.cookies["BPMLOADER"])
    assert r.cookies["UserName"] == "83|117|112|101|114|118|105|115|111|114"
    assert "expires=" in cookies["UserName"]
    assert "CRT_CSRF" not in cookies


def test_login_is_served_under_0_too(anon):
    r = anon.post("/0" + LOGIN, json=CREDS)
    assert r.json()["Code"] == 0 and ".ASPXAUTH" in r.cookies


def test_newer_build_cookies_and_user_type(sandbox, anon):
    sandbox.set_faults(newer_cookies=True)
    r = anon.post(LOGIN, json=CREDS)
    body = r.json()
    assert body["Code"] == 0 and body["UserType"] == "General"
    assert r.cookies["CRT_CSRF"] == r.cookies["BPMCSRF"]
    assert "HttpOnly" in set_cookies(r)["CsrfToken"] and r.cookies["UserType"] == "General"
    # The modern CSRF header name is accepted as well.
    ok = anon.get("/0/odata/Contact/$count", headers={"CRT_CSRF": r.cookies["CRT_CSRF"]})
    assert ok.status_code == 200


def test_bad_password_is_http_200_with_code_1(anon):
    r = anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "wrong"})
    assert r.status_code == 200
    body = r.json()
    assert body["Code"] == 1 and body["Message"] and body["Exception"]["Message"] == body["Message"]
    assert ".ASPXAUTH" not in r.cookies


def test_login_failure_mode_401_answers_the_wcf_fault(sandbox, anon):
    sandbox.set_faults(login_failure_mode="401")
    r = anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "wrong"})
    assert r.status_code == 401 and r.json() == WCF_FAULT


def test_lockout_after_repeated_failures_even_with_the_right_password(sandbox, anon):
    sandbox.set_faults(lockout_attempts=3)
    for _ in range(3):
        assert anon.post(LOGIN, json={"UserName": "Supervisor", "UserPassword": "nope"}).json()["Code"] == 1
    locked = anon.post(LOGIN, json=CREDS).json()
    assert locked["Code"] == 1 and "locked" in locked["Message"]
    sandbox.reset()
    assert anon.post(LOGIN, json=CREDS).json()["Code"] == 0


def test_unknown_authservice_method_is_403(anon):
    assert anon.post("/ServiceModel/AuthService.svc/Loginn", json=CREDS).status_code == 403


def test_data_without_credentials_is_401_wcf_fault(anon):
    r = anon.get("/0/odata/Contact")
    assert r.status_code == 401 and r.json() == WCF_FAULT


def test_cookie_requests_need_the_csrf_header(sandbox, anon):
    r = anon.post(LOGIN, json=CREDS)
    assert anon.get("/0/odata/Contact/$count").status_code == 403
    assert anon.get("/0/odata/Contact/$count", headers={"BPMCSRF": "x" * 22}).status_code == 403
    assert anon.post("/0/odata/Contact", json={"Name": "No csrf"}).status_code == 403
    good = anon.get("/0/odata/Contact/$count", headers={"BPMCSRF": r.cookies["BPMCSRF"]})
    assert good.status_code == 200 and int(good.text) > 100


def test_logout_ends_the_session(api):
    assert api.get("/0/odata/Contact/$count").status_code == 200
    assert api.post("/ServiceModel/AuthService.svc/Logout").status_code == 200
    assert api.get("/0/odata/Contact/$count").status_code == 401


def test_idle_expiry_slides_with_each_request_then_answers_401(sandbox, api):
    sandbox.set_faults(session_timeout_seconds=0.5)
    for _ in range(3):  # 3 × 0.3 s > 0.5 s, alive because each request extends it
        time.sleep(0.3)
        assert api.get("/0/odata/Contact/$count").status_code == 200
    time.sleep(0.7)
    r = api.get("/0/odata/Contact/$count")
    assert r.status_code == 401 and r.json() == WCF_FAULT


def test_expiry_redirect_mode_sends_302_to_the_login_page(sandbox, api):
    sandbox.set_faults(expiry_mode="302")
    sandbox.expire_sessions()
    r = api.get("/0/odata/Contact?$top=1")
    assert r.status_code == 302
    assert r.headers["location"] == "/0/Login/NuiLogin.aspx?ReturnUrl=%2f0%2fodata%2fContact%3f%24top%3d1"
    assert "Object moved" in r.text
    page = api.get(r.headers["location"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "bootstrap.login" in page.text and "/Login/" in str(page.url)


def test_expiry_redirect_on_netcore_goes_to_login_html(sandbox, api):
    sandbox.set_faults(expiry_mode="302", host_flavour="netcore")
    sandbox.expire_sessions()
    r = api.get("/odata/Contact")
    assert r.status_code == 302 and r.headers["location"].startswith("/Login/Login.html?ReturnUrl=")


def test_admin_expire_sessions_kills_existing_sessions(sandbox, api):
    assert api.get("/0/odata/Contact/$count").status_code == 200
    sandbox.expire_sessions()
    assert api.get("/0/odata/Contact/$count").status_code == 401


def token(anon, sandbox, path="/connect/token", **extra):
    data = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "grant_type": "client_credentials", **extra}
    return anon.post(path, data=data)


def test_oauth_client_credentials_token_and_bearer_use_without_csrf(sandbox, anon):
    r = token(anon, sandbox)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"].startswith("ApplicationAccess_") and body["access_token"].count(".") == 2
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    got = anon.get("/0/odata/Contact?$top=1&$select=Id", headers=bearer)
    assert got.status_code == 200 and len(got.json()["value"]) == 1
    created = anon.post("/0/odata/Contact", json={"Name": "Via Token"}, headers=bearer)
    assert created.status_code == 201 and created.json()["OwnerId"] == SUPERVISOR


def test_oauth_token_under_0_and_with_basic_client_auth(sandbox, anon):
    assert token(anon, sandbox, "/0/connect/token").status_code == 200
    r = anon.post("/connect/token", data={"grant_type": "client_credentials"},
                  auth=(sandbox.client_id, sandbox.client_secret))
    assert r.status_code == 200


def test_oauth_bad_client_is_400_invalid_client(sandbox, anon):
    r = anon.post("/connect/token", data={"client_id": sandbox.client_id, "client_secret": "bad",
                                          "grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json() == {"error": "invalid_client"}
    r = anon.post("/connect/token", data={"client_id": "nobody", "client_secret": "x",
                                          "grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json() == {"error": "invalid_client"}


def test_oauth_wrong_grant_type_is_400(sandbox, anon):
    r = token(anon, sandbox, grant_type="password")
    assert r.status_code == 400 and r.json() == {"error": "unsupported_grant_type"}


def test_bearer_token_expires_and_invalid_tokens_are_401(sandbox, anon):
    sandbox.set_faults(token_lifetime_seconds=1)
    body = token(anon, sandbox).json()
    assert body["expires_in"] == 1
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert anon.get("/0/odata/Contact/$count", headers=bearer).status_code == 200
    time.sleep(1.2)
    assert anon.get("/0/odata/Contact/$count", headers=bearer).status_code == 401
    assert anon.get("/0/odata/Contact/$count", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_admin_added_user_and_client_work(sandbox, anon):
    sandbox.add_user("Integration", "s3cret!")
    assert anon.post(LOGIN, json={"UserName": "integration", "UserPassword": "s3cret!"}).json()["Code"] == 0
    sandbox.add_oauth_client("other", "other-secret")
    r = anon.post("/connect/token", data={"client_id": "other", "client_secret": "other-secret",
                                          "grant_type": "client_credentials"})
    assert r.status_code == 200


def test_discovery_document_points_at_the_token_endpoint(anon):
    doc = anon.get("/0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"].endswith("/0/connect/token") and doc["issuer"] == "creatio.com"
