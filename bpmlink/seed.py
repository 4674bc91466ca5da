"""The demo workspace: the admin from the environment, a sandbox connection and a demo bundle.

In Russian or English (`demo_language`): BPMLINK_DEMO_LANGUAGE, else the operator's locale, else Russian —
the people this product is for administer a Russian-speaking bpm'online (README: "The demo's language").
The names are the `demo_*` codes of bpmlink/kit/locales/<lang>/accounts.json.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts
from bpmlink.bundle_config import BundleConfig
from bpmlink.db.models import Bundle, BundleStatus, BundleVersion, Connection, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit.messages import LANGUAGES, render
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings, get_settings
from bpmlink.webhooks import new_webhook_token, webhook_token_columns

DEFAULT_DEMO_LANGUAGE = "ru"
# POSIX: LC_ALL overrides LC_MESSAGES overrides LANG; the first one set is the operator's locale.
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def demo_language(settings: Settings, environ: Mapping[str, str]) -> str:
    """BPMLINK_DEMO_LANGUAGE, else the locale's language (ru_RU.UTF-8 → ru, any other real one → en).

    "C"/"POSIX" (containers, CI) say nothing about the person: the default then, Russian.
    """
    if settings.demo_language:
        return settings.demo_language
    locale = next((environ[v] for v in _LOCALE_VARIABLES if environ.get(v)), "")
    if not locale or locale in ("C", "POSIX") or locale.startswith("C."):
        return DEFAULT_DEMO_LANGUAGE
    return "ru" if locale.lower().startswith("ru") else "en"


def demo_name(code: str, language: str) -> str:
    return render(code, {}, language)


def _every_language(code: str) -> list[str]:
    """The name in both languages: a demo seeded in one is found again after the operator switches."""
    return [demo_name(code, language) for language in LANGUAGES]


async def _sandbox_connection(
    session: AsyncSession, settings: Settings, workspace: Workspace, url: str, language: str
) -> Connection:
    existing = await session.scalar(
        select(Connection)
        .where(Connection.workspace_id == workspace.id, Connection.name.in_(_every_language("demo_connection")))
        .limit(1)
    )
    if existing is not None:
        existing.params = dict(existing.params, domain=url)
        return existing
    connection = Connection(
        workspace_id=workspace.id,
        app="bpmonline",
        name=demo_name("demo_connection", language),
        params={"domain": url, "auth": "forms", "username": "Supervisor", "odata_version": 4, "path_prefix": "/0"},
        secrets_encrypted=SecretBox(settings).encrypt({"password": "Supervisor"}),
        secret_names=["password"],
    )
    session.add(connection)
    await session.flush()
    return connection


async def _demo_bundle(
    session: AsyncSession, box: SecretBox, workspace: Workspace, connection: Connection, language: str
) -> None:
    names = _every_language("demo_bundle")
    if await session.scalar(
        select(Bundle.id).where(Bundle.workspace_id == workspace.id, Bundle.name.in_(names)).limit(1)
    ):
        return
    name = demo_name("demo_bundle", language)
    config = BundleConfig.model_validate(
        {
            "name": name,
            "source": {"app": "webhook", "trigger": "incoming_request"},
            "target": {"connection_id": str(connection.id), "action": "create_record", "entity": "Contact"},
            "mapping": [
                {"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
                {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
                {"target": "MobilePhone", "source": "phone", "convert": [{"name": "phone_e164", "region": "RU"}]},
            ],
            "dedup": {"mode": "update_if_found", "match_fields": ["Email"]},
        }
    ).stored()
    bundle = Bundle(
        workspace_id=workspace.id,
        name=name,
        status=BundleStatus.waiting,
        config=config,
        config_version=1,
        source_app="webhook",
        target_connection_id=connection.id,
        **webhook_token_columns(box, new_webhook_token()),
    )
    session.add(bundle)
    await session.flush()
    session.add(BundleVersion(bundle_id=bundle.id, version=1, config=config))


async def seed_demo(settings: Settings | None = None, environ: Mapping[str, str] = os.environ) -> None:
    settings = settings or get_settings()
    language = demo_language(settings, environ)
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace = await accounts.ensure_admin(
                session,
                settings.admin_email,
                settings.admin_password,
                demo_name("demo_workspace", language),
                language=language,
            )
            sandbox_url = environ.get("BPMLINK_SANDBOX_URL")
            if sandbox_url:
                connection = await _sandbox_connection(session, settings, workspace, sandbox_url, language)
                await _demo_bundle(session, SecretBox(settings), workspace, connection, language)
            await session.commit()
    finally:
        await engine.dispose()
