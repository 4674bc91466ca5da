"""The webhook gateway: store each incoming event, then queue it. It never calls bpm'online."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from arq.connections import ArqRedis
from fastapi import FastAPI
from redis.asyncio import ConnectionPool
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from bpmlink.db.session import create_engine, create_sessionmaker, driver_url, rollback_if_open
from bpmlink.kit import metrics
from bpmlink.kit.queue import arq_queue
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings, get_settings
from bpmlink.kit.web import BodySizeLimit, health_router, install_error_handlers

from .endpoints import HOOK_METHODS, HOOK_PATH, HOOK_TEMPLATE, HookEndpoint
from .endpoints import router as hooks_router
from .limits import ClientLimits
from .reach import ipv4_only_warning
from .service import Gateway


def create_queue(settings: Settings) -> ArqRedis:
    """The arq client for enqueueing and the rate limit.

    Built without connecting (unlike arq's create_pool, which retries at start): the gateway
    must start and accept webhooks while Redis is down. Short timeouts keep a dead Redis
    from holding a request; the event is committed before Redis is touched.
    """
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    pool = ConnectionPool.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=2)
    return arq_queue(pool)


class GatewayApp(FastAPI):
    """The gateway's FastAPI app, with `GET|POST|PUT /hooks/{token}` taken straight to `HookEndpoint`.

    Every other request (and a hook request under a root path, which the route regex does not
    expect) goes through FastAPI as usual."""

    hooks: ASGIApp | None = None
    hook_route: object = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.hooks is not None
            and scope["type"] == "http"
            and scope["method"] in HOOK_METHODS
            and not scope.get("root_path")
            and (match := HOOK_PATH.match(scope["path"])) is not None
        ):
            scope["app"] = self
            scope["path_params"] = {"token": match[1]}
            scope["route"] = self.hook_route  # the route template for the request metrics
            await self.hooks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # SQLAlchemy for the rare queries (token lookups are cached, samples are one per bundle);
        # a raw asyncpg pool for the event insert on every request, which is one statement.
        app.state.engine = create_engine(settings, pool_size=5)
        app.state.sessionmaker = create_sessionmaker(app.state.engine)
        # min_size=0: no connection at start, so the gateway starts while PostgreSQL is away.
        app.state.db = await asyncpg.create_pool(
            driver_url(settings),
            min_size=0,
            max_size=20,
            server_settings={"application_name": "bpmlink-gateway"},
            reset=rollback_if_open,
        )
        app.state.redis = create_queue(settings)
        app.state.gateway = gateway = Gateway(
            sessionmaker=app.state.sessionmaker,
            db=app.state.db,
            queue=app.state.redis,
            secret_box=SecretBox(settings),
            rate_per_minute=settings.hook_rate_per_minute,
        )
        gateway.handoff.start()
        if warning := ipv4_only_warning(settings):
            logging.getLogger("bpmlink.gateway").warning(warning)
        # Everything built at start-up lives as long as the process: out of the collector's way, so a full
        # collection under load does not walk it (those pauses are what a p99 sees).
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await gateway.committer.drain()  # batches still running answer their requests first
            await gateway.handoff.stop()
            await app.state.redis.aclose(close_connection_pool=True)
            await app.state.db.close()
            await app.state.engine.dispose()

    app = GatewayApp(
        title="bpmlink webhook gateway", openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    install_error_handlers(app)
    metrics.install(app, "gateway")  # /metrics, per-route request metrics, X-Request-ID

    async def check_db() -> None:
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_redis() -> None:
        await app.state.redis.ping()

    # Without Redis the gateway still stores events (the sweeper queues them later), so it stays ready.
    app.include_router(health_router({"database": check_db}, degraded_ok={"redis": check_redis}))
    app.include_router(hooks_router)
    [app.hook_route] = [r for r in hooks_router.routes if getattr(r, "path", None) == HOOK_TEMPLATE]
    # The same request id and metrics middleware the FastAPI routes run under.
    app.hooks = metrics.ObservabilityMiddleware(HookEndpoint(app), "gateway")
    return app


def asgi_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or get_settings()
    sized = metrics.WebhookSizeRejections(BodySizeLimit(create_app(settings), settings.max_request_bytes))
    return ClientLimits(
        sized, body_timeout=settings.gateway_body_timeout, max_per_client=settings.gateway_max_requests_per_client
    )
