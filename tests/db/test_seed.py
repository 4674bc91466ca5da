"""The demo `make up` seeds: Russian by BPMLINK_DEMO_LANGUAGE, else the operator's locale, else by default;
its names and the admin's first language follow; a switch of language finds the demo again, and the
admin's own choice of language survives a re-seed."""

import pytest
from sqlalchemy import select

from bpmlink.db.models import Bundle, Connection, User, Workspace
from bpmlink.seed import demo_language, seed_demo
from tests.fixtures.app import make_settings

SANDBOX = "http://127.0.0.1:9"
ADMIN = {"BPMLINK_ADMIN_EMAIL": "admin@example.com", "BPMLINK_ADMIN_PASSWORD": "demo-password-123"}


@pytest.mark.parametrize(
    ("setting", "environ", "expected"),
    [
        (None, {}, "ru"),
        (None, {"LANG": "C.UTF-8"}, "ru"),
        (None, {"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, "ru"),
        (None, {"LANG": "ru_RU.UTF-8"}, "ru"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, {"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        (None, {"LC_MESSAGES": "en_GB.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ("en", {"LANG": "ru_RU.UTF-8"}, "en"),
        ("ru", {"LANG": "en_US.UTF-8"}, "ru"),
    ],
)
def test_the_demo_language_is_the_setting_then_the_locale_then_russian(db_url, redis_url, setting, environ, expected):
    overrides = {"BPMLINK_DEMO_LANGUAGE": setting} if setting else {}
    assert demo_language(make_settings(db_url, redis_url, **overrides), environ) == expected


def test_a_demo_language_other_than_ru_or_en_is_refused(db_url, redis_url):
    with pytest.raises(ValueError, match="BPMLINK_DEMO_LANGUAGE"):
        make_settings(db_url, redis_url, BPMLINK_DEMO_LANGUAGE="de")


async def _seed(db_url, redis_url, environ, **overrides):
    await seed_demo(make_settings(db_url, redis_url, **ADMIN, **overrides), dict(environ, BPMLINK_SANDBOX_URL=SANDBOX))


async def _demo(sessionmaker):
    async with sessionmaker() as session:
        admin = await session.scalar(select(User).where(User.email == ADMIN["BPMLINK_ADMIN_EMAIL"]))
        workspaces = (await session.scalars(select(Workspace.name))).all()
        connections = (await session.scalars(select(Connection.name))).all()
        bundles = (await session.scalars(select(Bundle.name))).all()
        assert admin is not None
        return admin, workspaces, connections, bundles


async def test_a_russian_locale_seeds_a_russian_demo_and_admin(db_url, redis_url, sessionmaker):
    await _seed(db_url, redis_url, {"LANG": "ru_RU.UTF-8"})
    admin, workspaces, connections, bundles = await _demo(sessionmaker)
    assert (admin.language, admin.language_set) == ("ru", False)
    assert workspaces == ["Демо"]
    assert connections == ["Песочница bpm'online (демо)"]
    assert bundles == ["Форма сайта → Контакты (демо)"]


async def test_the_setting_seeds_an_english_demo_under_a_russian_locale(db_url, redis_url, sessionmaker):
    await _seed(db_url, redis_url, {"LANG": "ru_RU.UTF-8"}, BPMLINK_DEMO_LANGUAGE="en")
    admin, workspaces, connections, bundles = await _demo(sessionmaker)
    assert admin.language == "en"
    assert (workspaces, connections, bundles) == (["Demo"], ["Sandbox (demo)"], ["Site form → Contacts (demo)"])


async def test_switching_language_finds_the_demo_again_instead_of_a_second_one(db_url, redis_url, sessionmaker):
    await _seed(db_url, redis_url, {"LANG": "en_US.UTF-8"})
    await _seed(db_url, redis_url, {"LANG": "ru_RU.UTF-8"})
    admin, workspaces, connections, bundles = await _demo(sessionmaker)
    assert admin.language == "ru"  # never set by its owner: follows the demo
    assert (len(workspaces), len(connections), len(bundles)) == (1, 1, 1)


async def test_a_reseed_keeps_the_language_the_admin_chose(db_url, redis_url, sessionmaker):
    await _seed(db_url, redis_url, {"LANG": "ru_RU.UTF-8"})
    async with sessionmaker() as session:
        admin = await session.scalar(select(User).where(User.email == ADMIN["BPMLINK_ADMIN_EMAIL"]))
        assert admin is not None
        admin.language, admin.language_set = "en", True
        await session.commit()
    await _seed(db_url, redis_url, {"LANG": "ru_RU.UTF-8"})
    admin, *_ = await _demo(sessionmaker)
    assert admin.language == "en"
