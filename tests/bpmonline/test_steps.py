import json

import httpx

from bpmlink.bpmonline.steps import REDACTED, StepRecorder, truncate


def _record(request, response=None, **kw):
    rec = StepRecorder(body_limit=kw.pop("limit", 8192))
    from datetime import UTC, datetime

    return rec.record(request, response, started_at=datetime.now(UTC), duration_ms=1.5, **kw)


def test_credential_headers_are_redacted():
    request = httpx.Request(
        "GET",
        "https://crm.example.com/0/odata/Contact",
        headers={"Cookie": ".ASPXAUTH=abc", "BPMCSRF": "tok", "CRT_CSRF": "tok", "Authorization": "Bearer x"},
    )
    response = httpx.Response(200, headers=[("set-cookie", "a=1"), ("set-cookie", "b=2")], json={"value": []})
    step = _record(request, response)
    for name in ("cookie", "bpmcsrf", "crt_csrf", "authorization"):
        assert step.request_headers[name] == REDACTED
    assert step.response_headers["set-cookie"] == REDACTED
    assert "abc" not in json.dumps(step.to_dict())


def test_login_body_password_is_redacted():
    body = json.dumps({"UserName": "Supervisor", "UserPassword": "hunter2"}).encode()
    request = httpx.Request("POST", "https://x/ServiceModel/AuthService.svc/Login", content=body,
                            headers={"Content-Type": "application/json"})
    step = _record(request, secret_body=True)
    assert "hunter2" not in step.request_body
    assert "Supervisor" in step.request_body


def test_token_form_and_answer_are_redacted():
    request = httpx.Request("POST", "https://x/connect/token",
                            data={"client_id": "cid", "client_secret": "s3cr3t", "grant_type": "client_credentials"})
    response = httpx.Response(200, json={"access_token": "eyJhbGc", "expires_in": 3600})
    step = _record(request, response, secret_body=True)
    assert "s3cr3t" not in step.request_body and "cid" in step.request_body
    assert "eyJhbGc" not in step.response_body


def test_bodies_are_truncated_and_marked():
    request = httpx.Request("POST", "https://x/0/odata/Contact", content=("é" * 5000).encode())
    step = _record(request, limit=100)
    assert step.request_truncated
    assert step.request_body.endswith("[truncated 9900 bytes]")


def test_truncate_keeps_short_text():
    assert truncate("abc", 10) == ("abc", False)
    assert truncate(None, 10) == (None, False)
