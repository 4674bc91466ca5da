"""The sandbox's own settings (it shares nothing with the product package)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


@dataclass
class SandboxSettings:
    """Start-up configuration; runtime knobs live in `faults.Faults` and change via the admin API."""

    database_url: str = "postgresql://localhost/bpmlink_sandbox"
    host: str = "127.0.0.1"
    port: int = 8002
    username: str = "Supervisor"
    password: str = "Supervisor"  # noqa: S105 - the documented default of a stand-in
    oauth_client_id: str = "bpmlink-sandbox"
    oauth_client_secret: str = "bpmlink-sandbox-secret"  # noqa: S105 - demo client of a stand-in
    session_timeout_seconds: int = 3600
    token_lifetime_seconds: int = 3600
    host_flavour: str = "netframework"  # or "netcore": also serves /odata and the un-prefixed OData 3 root
    newer_cookies: bool = False  # CRT_CSRF / CsrfToken / UserType cookies of 8.x builds
    lockout_attempts: int = 5
    lockout_seconds: int = 900
    # Custom Usr* entities/columns: {"entities": {"UsrX": {"UsrName": "text"}}, "columns": {"Contact": {...}}}
    custom_schema: dict[str, Any] = field(default_factory=dict)
    admin_token: str = ""  # when set, /_sandbox/* needs header X-Sandbox-Admin-Token
    seed_scale: int = 1  # multiplies the demo records (1 = a few hundred)
    db_pool_size: int = 8

    @classmethod
    def from_env(cls) -> SandboxSettings:
        custom_raw = os.environ.get("SANDBOX_CUSTOM_SCHEMA", "")
        if custom_raw and not custom_raw.lstrip().startswith("{"):
            with open(custom_raw, encoding="utf-8") as fh:  # a path to a JSON file
                custom_raw = fh.read()
        return cls(
            database_url=os.environ.get("SANDBOX_DATABASE_URL", cls.database_url).replace(
                "postgresql+asyncpg://", "postgresql://"
            ),
            host=os.environ.get("SANDBOX_HOST", cls.host),
            port=_env_int("SANDBOX_PORT", cls.port),
            username=os.environ.get("SANDBOX_USERNAME", cls.username),
            password=os.environ.get("SANDBOX_PASSWORD", cls.password),
            oauth_client_id=os.environ.get("SANDBOX_OAUTH_CLIENT_ID", cls.oauth_client_id),
            oauth_client_secret=os.environ.get("SANDBOX_OAUTH_CLIENT_SECRET", cls.oauth_client_secret),
            session_timeout_seconds=_env_int("SANDBOX_SESSION_TIMEOUT", cls.session_timeout_seconds),
            token_lifetime_seconds=_env_int("SANDBOX_TOKEN_LIFETIME", cls.token_lifetime_seconds),
            host_flavour=os.environ.get("SANDBOX_HOST_FLAVOUR", cls.host_flavour),
            newer_cookies=os.environ.get("SANDBOX_NEWER_COOKIES", "") in ("1", "true", "yes"),
            lockout_attempts=_env_int("SANDBOX_LOCKOUT_ATTEMPTS", cls.lockout_attempts),
            lockout_seconds=_env_int("SANDBOX_LOCKOUT_SECONDS", cls.lockout_seconds),
            custom_schema=json.loads(custom_raw) if custom_raw else {},
            admin_token=os.environ.get("SANDBOX_ADMIN_TOKEN", ""),
            seed_scale=_env_int("SANDBOX_SEED_SCALE", cls.seed_scale),
            db_pool_size=_env_int("SANDBOX_DB_POOL_SIZE", cls.db_pool_size),
        )
