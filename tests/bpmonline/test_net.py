import asyncio
import socket

import httpcore
import httpx
import pytest

from bpmlink.bpmonline import BpmClient, BpmConnection, ConfigurationError
from bpmlink.kit.net import (
    BlockedAddressError,
    GuardedNetworkBackend,
    GuardedTransport,
    check_addresses,
    check_url,
    is_blocked_address,
)
from tests.bpmonline.fakes import settings


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fc00::1",
        "0.0.0.0",  # noqa: S104
        "::ffff:10.0.0.1", "100.64.0.1", "224.0.0.1",
    ],
)
def test_internal_addresses_are_blocked(address):
    assert is_blocked_address(address)


def test_public_addresses_pass():
    assert not is_blocked_address("93.184.216.34")
    assert not is_blocked_address("2606:2800:220:1:248:1893:25c8:1946")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/", "http://10.0.0.8/", "http://169.254.169.254/", "http://[::1]/"])
async def test_client_refuses_internal_hosts_without_allow_list(url):
    conn = BpmConnection(id="ssrf", domain=url, username="u", password="p")
    async with BpmClient(conn, settings=settings()) as bpm:
        with pytest.raises(ConfigurationError) as info:
            await bpm.query("Contact", top=1)
    assert info.value.code == "blocked_address"
    assert info.value.steps and info.value.steps[0].status is None


async def test_allow_list_lets_a_host_through():
    s = settings(BPMLINK_OUTBOUND_ALLOW_HOSTS="127.0.0.1")
    assert await check_url("http://127.0.0.1:9/", s) == ["127.0.0.1"]
    s_port = settings(BPMLINK_OUTBOUND_ALLOW_HOSTS="127.0.0.1:8002")
    check_addresses("127.0.0.1", 8002, ["127.0.0.1"], s_port)
    with pytest.raises(BlockedAddressError):
        check_addresses("127.0.0.1", 8003, ["127.0.0.1"], s_port)


@pytest.mark.parametrize("url", ["ftp://crm.example.com/", "file:///etc/passwd", "gopher://x/"])
async def test_non_http_schemes_are_refused(url):
    with pytest.raises(BlockedAddressError):
        await check_url(url, settings())
    transport = GuardedTransport(settings())
    with pytest.raises(BlockedAddressError):
        await transport.handle_async_request(httpx.Request("GET", url))


class _RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self):
        self.hosts = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.hosts.append(host)
        raise httpcore.ConnectError("stop here")

    async def sleep(self, seconds):  # pragma: no cover
        await asyncio.sleep(seconds)


def _fake_dns(monkeypatch, answers):
    loop = asyncio.get_running_loop()

    async def getaddrinfo(host, port, *args, **kwargs):
        addrs = answers[host] if isinstance(answers[host], list) else answers[host]()
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addrs]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)


async def test_a_name_with_any_private_address_is_refused(monkeypatch):
    _fake_dns(monkeypatch, {"evil.example": ["93.184.216.34", "10.0.0.5"]})
    backend = GuardedNetworkBackend(settings(), inner=_RecordingBackend())
    with pytest.raises(BlockedAddressError):
        await backend.connect_tcp("evil.example", 443)


async def test_rebinding_cannot_switch_address_after_the_check(monkeypatch):
    """The backend connects to the address it checked, never resolves the name again."""
    calls = iter([["93.184.216.34"], ["127.0.0.1"]])
    _fake_dns(monkeypatch, {"rebind.example": lambda: next(calls)})
    inner = _RecordingBackend()
    backend = GuardedNetworkBackend(settings(), inner=inner)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("rebind.example", 443)
    assert inner.hosts == ["93.184.216.34"]
    # The second lookup now answers loopback: refused before any connection.
    with pytest.raises(BlockedAddressError):
        await backend.connect_tcp("rebind.example", 443)
    assert inner.hosts == ["93.184.216.34"]


async def test_dns_failure_is_reported_as_dns(monkeypatch):
    loop = asyncio.get_running_loop()

    async def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    conn = BpmConnection(id="dns", domain="https://no-such-tenant.creatio.com", username="u", password="p")
    async with BpmClient(conn, settings=settings()) as bpm:
        from bpmlink.bpmonline import NetworkError

        with pytest.raises(NetworkError) as info:
            await bpm.query("Contact", top=1)
        assert info.value.code == "dns"
        result = await bpm.test()
    assert not result.ok and result.stage == "address" and result.code == "dns"
