import httpx


def test_sandbox_starts_and_answers_odata(sandbox):
    c = sandbox.login()
    r = c.get("/0/odata/Contact(410006e1-ca4e-4502-a9ec-e54d922d2c00)")
    assert r.status_code == 200, r.text
    assert r.json()["Name"] == "Supervisor"
    assert httpx.get(sandbox.base_url + "/readyz").json() == {"status": "ok"}
