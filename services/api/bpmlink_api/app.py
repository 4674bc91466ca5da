"""The api service: configuration, auth, history reads; serves the built SPA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp

from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit import metrics
from bpmlink.kit.net import behind_proxies
from bpmlink.kit.queue import create_arq_pool, create_redis
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings, get_settings
from bpmlink.kit.web import BodySizeLimit, error_body, health_router, install_error_handlers

from .api_keys.endpoints import router as api_keys_router
from .apps.endpoints import router as apps_router
from .audit.endpoints import router as audit_router
from .auth.endpoints import router as auth_router
from .bundles.endpoints import router as bundles_router
from .connections.endpoints import router as connections_router
from .history.endpoints import router as history_router
from .imports.endpoints import IMPORT_PATH
from .imports.endpoints import router as imports_router
from .invitations.endpoints import router as invitations_router
from .users.endpoints import router as users_router
from .workspaces.endpoints import current_router as workspace_router
from .workspaces.endpoints import router as workspaces_router

SPA_DIR = Path(__file__).resolve().parents[3] / "frontend" / "dist"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.redis = create_redis(settings)
        app.state.arq = await create_arq_pool(settings)
        yield
        await app.state.arq.aclose()
        await app.state.redis.aclose()
        await engine.dispose()

    app = FastAPI(
        title="bpmlink API",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.secret_box = SecretBox(settings)
    install_error_handlers(app)
    metrics.install(app, "api")  # /metrics (before the SPA catch-all), request metrics, X-Request-ID

    async def check_db() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_redis() -> None:
        await app.state.redis.ping()

    app.include_router(health_router({"database": check_db, "redis": check_redis}))
    for router in (
        auth_router,
        api_keys_router,
        users_router,
        invitations_router,
        apps_router,
        connections_router,
        bundles_router,
        history_router,
        imports_router,
        workspace_router,
        workspaces_router,
        audit_router,
    ):
        app.include_router(router)
    _mount_spa(app)
    return app


def _mount_spa(app: FastAPI) -> None:
    """Any path outside /api answers the SPA's index.html (client-side routes)."""

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown_api(rest: str) -> JSONResponse:
        return JSONResponse(error_body("not_found", f"no API endpoint /api/{rest}"), status_code=404)

    @app.get("/{path:path}", include_in_schema=False, response_model=None)
    async def spa(path: str) -> FileResponse | JSONResponse:
        if not SPA_DIR.is_dir():
            return JSONResponse(
                error_body("not_found", "the SPA is not built; run `make up` or `npm run build` in frontend/"),
                status_code=404,
            )
        candidate = (SPA_DIR / path).resolve()
        if path and candidate.is_file() and SPA_DIR in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(SPA_DIR / "index.html")


def size_limited(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The request size limit around the api (imports may be larger)."""
    return BodySizeLimit(app, settings.max_request_bytes, larger=(IMPORT_PATH, settings.max_import_bytes))


def wrapped(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The size-limited app, seeing the client address that trusted proxies report (and only those)."""
    return behind_proxies(size_limited(app, settings), settings)


def asgi_app(settings: Settings | None = None) -> ASGIApp:
    """The app behind its middleware, as uvicorn runs it."""
    settings = settings or get_settings()
    return wrapped(create_app(settings), settings)
