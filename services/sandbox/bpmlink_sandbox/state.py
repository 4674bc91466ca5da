"""Everything one sandbox process holds: store, auth, knobs, counters, cached documents."""

from __future__ import annotations

import asyncio
from typing import Any

from .auth import Auth
from .communications import set_search_column
from .faults import Counts, Faults
from .metadata import csdl3, csdl4
from .schema import Schema
from .seed import build_seed
from .settings import SandboxSettings
from .store import Store


class State:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url, settings.db_pool_size)
        self.auth = Auth(settings.username, settings.password, settings.oauth_client_id,
                         settings.oauth_client_secret)
        self.faults = Faults.from_settings(settings)
        self.counts = Counts()
        self.reset_lock = asyncio.Lock()
        self._docs: dict[tuple[int, int, int], str] = {}
        self.available_at: dict[str, float] = {}  # custom entity → when the "OData rebuild" finishes
        self.process_runs: list[dict[str, Any]] = []  # ProcessEngineService runs, for /_sandbox/process-runs

    def base_extensions(self) -> list[dict[str, Any]]:
        return [self.settings.custom_schema] if self.settings.custom_schema else []

    async def start(self) -> None:
        await self.store.open()
        if not await self.store.load(self.base_extensions()):
            await self.reset_data()

    async def reset_data(self) -> None:
        schema = Schema(self.base_extensions())
        seed = build_seed(self.settings.seed_scale)
        await self.store.reset(schema, seed)
        self._docs.clear()
        self.available_at.clear()

    def reset_runtime(self) -> None:
        self.faults = Faults.from_settings(self.settings)
        self.apply_schema_switches()
        self.auth.reset()
        self.counts.reset()
        self.process_runs.clear()

    def apply_schema_switches(self) -> None:
        """Knobs that change the schema (`search_number`)."""
        set_search_column(self.store.schema, self.faults.search_number)

    def metadata(self, version: int) -> str:
        schema = self.store.schema
        key = (version, id(schema), schema.version)
        doc = self._docs.get(key)
        if doc is None:
            doc = csdl4(schema) if version == 4 else csdl3(schema)
            self._docs[key] = doc
        return doc
