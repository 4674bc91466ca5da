"""The demo workspace: the admin from the environment, a sandbox connection and a demo bundle."""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts
from bpmlink.bundle_config import BundleConfig
from bpmlink.db.models import Bundle, BundleStatus, BundleVersion, Connection, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings, get_settings
from bpmlink.webhooks import new_webhook_token, webhook_token_columns

SANDBOX_CONNECTION = "Sandbox (demo)"
DEMO_BUNDLE = "Site form → Contacts (demo)"


async def _sandbox_connection(session: AsyncSession, settings: Settings, workspace: Workspace, url: str) -> Connection:
    existing = await session.scalar(
        select(Connection).where(Connection.workspace_id == workspace.id, Connection.name == SANDBOX_CONNECTION)
    )
    if existing is not None:
        existing.params = dict(existing.params, domain=url)
        return existing
    connection = Connection(
        workspace_id=workspace.id,
        app="bpmonline",
        name=SANDBOX_CONNECTION,
        params={"domain": url, "auth": "forms", "username": "Supervisor", "odata_version": 4, "path_prefix": "/0"},
        secrets_encrypted=SecretBox(settings).encrypt({"password": "Supervisor"}),
        secret_names=["password"],
    )
    session.add(connection)
    await session.flush()
    return connection


async def _demo_bundle(session: AsyncSession, box: SecretBox, workspace: Workspace, connection: Connection) -> None:
    if await session.scalar(select(Bundle.id).where(Bundle.workspace_id == workspace.id, Bundle.name == DEMO_BUNDLE)):
        return
    config = BundleConfig.model_validate(
        {
            "name": DEMO_BUNDLE,
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
        name=DEMO_BUNDLE,
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


async def seed_demo() -> None:
    settings = get_settings()
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace = await accounts.ensure_admin(session, settings.admin_email, settings.admin_password)
            sandbox_url = os.environ.get("BPMLINK_SANDBOX_URL")
            if sandbox_url:
                connection = await _sandbox_connection(session, settings, workspace, sandbox_url)
                await _demo_bundle(session, SecretBox(settings), workspace, connection)
            await session.commit()
    finally:
        await engine.dispose()
