"""The embedded stores' files hold queued events and credentials: only their owner may read them."""

from __future__ import annotations

import stat
from pathlib import Path

import redis

from bpmlink.kit import embedded


def test_embedded_redis_files_are_owner_only(tmp_path: Path) -> None:
    server, url = embedded.start_redis(tmp_path / "redis")
    try:
        client = redis.Redis.from_url(url)
        client.set("k", "v")
        client.bgrewriteaof()  # a rewrite writes new AOF files: they must be owner-only too
        client.save()
        client.close()
    finally:
        server.shutdown()
    files = [p for p in (tmp_path / "redis").rglob("*") if p.is_file()]
    assert any("aof" in p.name for p in files), files
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in files if stat.S_IMODE(p.stat().st_mode) & 0o077}
    assert loose == {}
