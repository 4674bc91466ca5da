"""Helpers for the gateway tests: read what the gateway stored."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Bundle, Event, Operation


async def events_of(sm: async_sessionmaker[AsyncSession], bundle_id: uuid.UUID) -> list[Event]:
    async with sm() as session:
        return list(await session.scalars(select(Event).where(Event.bundle_id == bundle_id)))


async def operations_of(sm: async_sessionmaker[AsyncSession], bundle_id: uuid.UUID) -> list[Operation]:
    async with sm() as session:
        return list(await session.scalars(select(Operation).where(Operation.bundle_id == bundle_id)))


async def bundle_row(sm: async_sessionmaker[AsyncSession], bundle_id: uuid.UUID) -> Bundle:
    async with sm() as session:
        bundle = await session.get(Bundle, bundle_id)
        assert bundle is not None
        return bundle
