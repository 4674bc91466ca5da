"""The webhook gateway: store each incoming event, then queue it. It never calls bpm'online."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp

from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.redis import create_redis
from bpmlink.settings import Settings, get_settings
from bpmlink.web import BodySizeLimit, health_router, install_error_handlers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = create_engine(settings, pool_size=20)
        app.state.sessionmaker = create_sessionmaker(app.state.engine)
        app.state.redis = create_redis(settings)
        yield
        await app.state.redis.aclose()
        await app.state.engine.dispose()

    app = FastAPI(title="bpmlink webhook gateway", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)

    async def check_db() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_redis() -> None:
        await app.state.redis.ping()

    app.include_router(health_router({"database": check_db, "redis": check_redis}))
    return app


def asgi_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    return BodySizeLimit(create_app(settings), settings.max_request_bytes)
