"""`python -m bpmlink_sandbox` as a real process: env settings, own tables, seed once, data survives restarts."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from bpmlink.kit.embedded import free_port


@contextmanager
def sandbox_process(db_url: str, port: int, **env: str) -> Iterator[str]:
    full_env = {**os.environ, "SANDBOX_DATABASE_URL": db_url, "SANDBOX_PORT": str(port), **env}
    proc = subprocess.Popen([sys.executable, "-m", "bpmlink_sandbox"], env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox process failed: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def proc_db(make_database):
    return make_database("sandbox_proc")


def login(c: httpx.Client, user: str = "Supervisor", password: str = "Supervisor") -> None:
    r = c.post("/ServiceModel/AuthService.svc/Login", json={"UserName": user, "UserPassword": password})
    assert r.json()["Code"] == 0
    c.headers["BPMCSRF"] = c.cookies["BPMCSRF"]


def test_module_entry_point_reads_env_seeds_once_and_keeps_data(proc_db):
    port = free_port()
    custom = json.dumps({"columns": {"Contact": {"UsrSegment": "text"}}})
    env = {"SANDBOX_CUSTOM_SCHEMA": custom, "SANDBOX_ADMIN_TOKEN": "t0ken", "SANDBOX_USERNAME": "Integrator",
           "SANDBOX_PASSWORD": "pw", "SANDBOX_HOST_FLAVOUR": "netcore"}
    with sandbox_process(proc_db, port, **env) as base, httpx.Client(base_url=base, timeout=10) as c:
        assert c.get("/_sandbox/counts").status_code == 401  # admin token enforced
        assert c.get("/_sandbox/counts", headers={"X-Sandbox-Admin-Token": "t0ken"}).status_code == 200
        login(c, "Integrator", "pw")
        made = c.post("/odata/Contact", json={"Name": "Survivor", "UsrSegment": "VIP"})  # .NET Core prefix
        assert made.status_code == 201
        key = made.json()["Id"]
        seeded = int(c.get("/odata/Contact/$count").text)
    with sandbox_process(proc_db, port, **env) as base, httpx.Client(base_url=base, timeout=10) as c:
        login(c, "Integrator", "pw")
        again = c.get(f"/odata/Contact({key})").json()
        assert again["Name"] == "Survivor" and again["UsrSegment"] == "VIP"
        assert int(c.get("/odata/Contact/$count").text) == seeded  # not seeded twice
