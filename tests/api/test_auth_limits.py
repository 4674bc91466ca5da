"""Failed-login limits: counted before the hash runs, keyed by the client address that trusted proxies
report, tight per account and address, looser per account alone."""

import asyncio

import pytest
from bpmlink_api.app import create_app, wrapped

from tests.fixtures.accounts import PASSWORD, make_workspace
from tests.fixtures.app import browser, make_settings


def _wrong(email: str) -> dict:
    return {"email": email, "password": "a wrong guess"}


async def test_concurrent_wrong_passwords_reach_the_hasher_at_most_the_limit(client, sessionmaker, settings, hasher):
    owner = await make_workspace(sessionmaker)
    answers = await asyncio.gather(*[client.post("/api/v1/auth/login", json=_wrong(owner.email)) for _ in range(40)])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * settings.login_max_attempts + [429] * (40 - settings.login_max_attempts)
    assert hasher.verified == settings.login_max_attempts


async def test_a_right_password_under_the_limit_does_not_count(client, sessionmaker, settings):
    owner = await make_workspace(sessionmaker)
    for _ in range(settings.login_max_attempts - 1):
        assert (await client.post("/api/v1/auth/login", json=_wrong(owner.email))).status_code == 401
    right = {"email": owner.email, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=right)).status_code == 200
    # The success forgave the failures: a whole new allowance before the limit.
    for _ in range(settings.login_max_attempts):
        assert (await client.post("/api/v1/auth/login", json=_wrong(owner.email))).status_code == 401


@pytest.fixture
async def served(db_url, redis_url, _clean_tables, request):
    """The api wrapped as uvicorn runs it (asgi_app), with the settings the test asks for."""
    settings = make_settings(db_url, redis_url, **getattr(request, "param", {}))
    app = create_app(settings)
    async with app.router.lifespan_context(app), browser(wrapped(app, settings)) as client:
        yield client, app.state.sessionmaker


async def test_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_limit(served, settings):
    client, sessionmaker = served
    owner = await make_workspace(sessionmaker)
    for i in range(settings.login_max_attempts):
        spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
        r = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers=spoofed)
        assert r.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers={"X-Forwarded-For": "1.2.3.4"})
    assert blocked.status_code == 429


# Behind a trusted proxy on loopback (the ASGI client's address), with small limits.
behind_a_proxy = pytest.mark.parametrize(
    "served",
    [
        {
            "BPMLINK_TRUSTED_PROXIES": "127.0.0.0/8",
            "BPMLINK_LOGIN_MAX_ATTEMPTS": "3",
            "BPMLINK_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT": "7",
        }
    ],
    indirect=True,
)


def _from(address: str) -> dict:
    return {"X-Forwarded-For": f"{address}, 127.0.0.1"}  # the proxy chain: the client, then a local proxy


@behind_a_proxy
async def test_an_attacker_behind_the_proxy_does_not_lock_the_real_user_out(served):
    client, sessionmaker = served
    owner = await make_workspace(sessionmaker)
    for _ in range(3):
        r = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers=_from("203.0.113.9"))
        assert r.status_code == 401
    attacker = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers=_from("203.0.113.9"))
    assert attacker.status_code == 429
    right = {"email": owner.email, "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=right, headers=_from("198.51.100.7"))).status_code == 200


@behind_a_proxy
async def test_guesses_from_many_addresses_hit_the_looser_per_account_limit(served):
    client, sessionmaker = served
    owner = await make_workspace(sessionmaker)
    for i in range(7):
        r = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers=_from(f"203.0.113.{i}"))
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/login", json=_wrong(owner.email), headers=_from("198.51.100.1"))
    assert r.status_code == 429
