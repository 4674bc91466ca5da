"""The first login brings the browser's language and time zone into a profile that never had them set;
a choice made in the profile (or a first login already taken) is never overridden by a later browser."""

from bpmlink.db.models import User
from tests.fixtures.accounts import PASSWORD, make_workspace

MOSCOW = {"language": "ru", "timezone": "Europe/Moscow"}
NEW_YORK = {"language": "en", "timezone": "America/New_York"}


async def _login(client, email, browser):
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD, **browser})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = client.cookies["bpmlink_csrf"]
    return response.json()["user"]


async def test_a_new_profile_takes_the_browsers_language_and_zone_at_first_login(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    user = await _login(client, owner.email, MOSCOW)
    assert (user["language"], user["timezone"]) == ("ru", "Europe/Moscow")
    me = (await client.get("/api/v1/auth/me")).json()["user"]
    assert (me["language"], me["timezone"]) == ("ru", "Europe/Moscow")


async def test_a_later_login_from_another_browser_keeps_what_the_first_one_brought(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await _login(client, owner.email, MOSCOW)
    await client.post("/api/v1/auth/logout")
    user = await _login(client, owner.email, NEW_YORK)
    assert (user["language"], user["timezone"]) == ("ru", "Europe/Moscow")


async def test_an_explicit_choice_wins_over_every_browser(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await _login(client, owner.email, {})  # no browser values: the profile is still unset
    chosen = await client.patch("/api/v1/auth/profile", json={"language": "en", "timezone": "Asia/Tokyo"})
    assert chosen.status_code == 200, chosen.text
    await client.post("/api/v1/auth/logout")
    user = await _login(client, owner.email, MOSCOW)
    assert (user["language"], user["timezone"]) == ("en", "Asia/Tokyo")


async def test_choosing_only_the_language_leaves_the_zone_to_the_browser(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await _login(client, owner.email, {})
    await client.patch("/api/v1/auth/profile", json={"language": "en"})
    await client.post("/api/v1/auth/logout")
    user = await _login(client, owner.email, MOSCOW)
    assert (user["language"], user["timezone"]) == ("en", "Europe/Moscow")


async def test_a_login_without_browser_values_changes_nothing_and_the_next_one_still_adopts(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    user = await _login(client, owner.email, {})
    assert (user["language"], user["timezone"]) == ("en", "UTC")
    await client.post("/api/v1/auth/logout")
    user = await _login(client, owner.email, MOSCOW)
    assert (user["language"], user["timezone"]) == ("ru", "Europe/Moscow")


async def test_an_unknown_zone_is_ignored_and_a_bad_language_refused_without_touching_the_profile(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    user = await _login(client, owner.email, {"language": "ru", "timezone": "Mars/Olympus_Mons"})
    assert (user["language"], user["timezone"]) == ("ru", "UTC")
    await client.post("/api/v1/auth/logout")
    bad = await client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD, "language": "de'; drop"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "language"
    user = await _login(client, owner.email, {"timezone": "Europe/Moscow"})
    assert (user["language"], user["timezone"]) == ("ru", "Europe/Moscow")


async def test_a_wrong_password_brings_nothing_into_the_profile(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    wrong = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": "nope", **MOSCOW})
    assert wrong.status_code == 401
    async with sessionmaker() as session:
        row = await session.get(User, owner.user_id)
        assert row is not None and (row.language, row.timezone, row.language_set) == ("en", "UTC", False)
