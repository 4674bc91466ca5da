"""Slow and greedy senders against a real gateway process, on real sockets (bpmlink_gateway/limits.py).

- Connections that send their body a byte at a time are answered 408 once the body deadline passes,
  and closed; none stays open for as long as its sender likes.
- While one address holds its maximum of open requests, its next request is answered 429 at once;
  when those are gone, the gateway answers it again as usual.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings
from tests.fixtures.app import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
BODY_TIMEOUT = 2.0
MAX_PER_CLIENT = 5
TOKEN = "t" * 43  # well-formed and unknown: the gateway reads the whole body before it looks the token up


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        BPMLINK_ENV="test",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        BPMLINK_SECRET_KEY=TEST_SECRET_KEY,
        BPMLINK_GATEWAY_PORT=str(port),
        BPMLINK_GATEWAY_BODY_TIMEOUT=str(BODY_TIMEOUT),
        BPMLINK_GATEWAY_MAX_REQUESTS_PER_CLIENT=str(MAX_PER_CLIENT),
    )
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bpmlink_gateway"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    yield base
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def _slow_request(base: str) -> socket.socket:
    """A POST whose headers are sent and whose 100-byte body has only begun."""
    port = int(base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /hooks/{TOKEN} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        "Content-Length: 100\r\n\r\n{"
    )
    sock.sendall(head.encode())
    return sock


def _status(sock: socket.socket) -> int:
    """The status of the answer on this connection (it arrives while the body is still unsent)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed without an answer"
        data += chunk
    return int(data.split(b" ", 2)[1])


def _drip_until_answered(socks: list[socket.socket], seconds: float) -> dict[int, int]:
    """Send each connection one more body byte every 0.5 s; the status each was answered (by index)."""
    answered: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    while len(answered) < len(socks) and time.monotonic() < deadline:
        time.sleep(0.5)
        for i, sock in enumerate(socks):
            if i in answered:
                continue
            sock.setblocking(False)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                data = None
            finally:
                sock.setblocking(True)
            if data:
                answered[i] = int(data.split(b" ", 2)[1])
                continue
            try:
                sock.sendall(b" ")
            except OSError:
                answered[i] = -1  # closed without an answer
    return answered


def test_a_body_sent_a_byte_at_a_time_is_answered_408_and_closed(gateway: str) -> None:
    socks = [_slow_request(gateway) for _ in range(3)]
    try:
        started = time.monotonic()
        answered = _drip_until_answered(socks, seconds=BODY_TIMEOUT * 5)
        assert answered == {0: 408, 1: 408, 2: 408}
        assert time.monotonic() - started < BODY_TIMEOUT * 4
        for sock in socks:  # and the gateway closed the connection (a reset is a close with our bytes unread)
            sock.settimeout(5)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass
    finally:
        for sock in socks:
            sock.close()


def test_an_address_over_its_open_requests_is_answered_429_then_served_again(gateway: str) -> None:
    holding = [_slow_request(gateway) for _ in range(MAX_PER_CLIENT)]
    try:
        time.sleep(0.5)  # every one of them is inside the gateway, reading its body
        extra = _slow_request(gateway)
        try:
            extra.settimeout(5)
            assert _status(extra) == 429
        finally:
            extra.close()
        assert set(_drip_until_answered(holding, seconds=BODY_TIMEOUT * 5).values()) == {408}
    finally:
        for sock in holding:
            sock.close()
    answer = httpx.post(f"{gateway}/hooks/{TOKEN}", json={"lead": 1}, timeout=5)
    assert answer.status_code == 404  # served as usual: an unknown token
