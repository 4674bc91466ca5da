"""Outbound request guard: no requests to private, loopback, link-local or reserved addresses.

A user types the domain of "their CRM"; without a guard that field would let anyone make the
worker call `http://169.254.169.254/` or the database port. The guard runs where the TCP
connection is opened (an httpcore network backend), so the address that is checked is the
address that is connected to — a DNS answer that changes between check and connect (DNS
rebinding) cannot slip through. Hosts on `Settings.outbound_allow_hosts` (e.g. the sandbox on
127.0.0.1) are exempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Iterable

import httpcore
import httpx
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bpmlink.kit.settings import Settings, is_private_address

ALLOWED_SCHEMES = frozenset({"http", "https"})
_SocketOption = typing.Any  # httpcore's SOCKET_OPTION union


class BlockedAddressError(Exception):
    """The destination is not allowed: wrong scheme, or a private/internal address."""

    def __init__(self, message: str, *, host: str = "", address: str | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.address = address


class DNSResolutionError(httpcore.ConnectError):
    """The host name did not resolve (mapped by httpx to `httpx.ConnectError`)."""


def is_blocked_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    # `not is_global` also catches shared (100.64/10), documentation and benchmark ranges.
    return is_private_address(str(ip)) or ip.is_unspecified or not ip.is_global


def check_scheme(url: httpx.URL | str) -> None:
    scheme = httpx.URL(url).scheme if isinstance(url, str) else url.scheme
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedAddressError(f"only http and https URLs are allowed, not {scheme or 'none'!r}")


async def resolve(host: str, port: int, timeout: float | None = None) -> list[str]:
    """All addresses of `host` (async, through the event loop's resolver)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=timeout)
    except TimeoutError as exc:
        raise DNSResolutionError(f"DNS lookup of {host!r} timed out") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise DNSResolutionError(f"DNS lookup of {host!r} failed: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in addresses:
            addresses.append(addr)
    if not addresses:
        raise DNSResolutionError(f"DNS lookup of {host!r} returned no address")
    return addresses


def check_addresses(host: str, port: int, addresses: Iterable[str], settings: Settings) -> None:
    """Refuse if any address is internal and the host is not allow-listed.

    Every address is checked, not just the first: a name that resolves to one public and one
    private address could otherwise be steered to the private one.
    """
    if settings.is_allowed_host(host, port):
        return
    for addr in addresses:
        if is_blocked_address(addr):
            shown = host if host == addr else f"{host} ({addr})"
            raise BlockedAddressError(
                f"{shown} is a private, loopback, link-local or reserved address; "
                "add it to BPMLINK_OUTBOUND_ALLOW_HOSTS to allow it",
                host=host,
                address=addr,
            )


async def check_url(url: httpx.URL | str, settings: Settings, timeout: float | None = 10.0) -> list[str]:
    """Pre-flight a URL (scheme, DNS, addresses); returns the addresses. For friendly checks."""
    u = httpx.URL(url) if isinstance(url, str) else url
    check_scheme(u)
    host = u.host
    if not host:
        raise BlockedAddressError("the URL has no host")
    port = u.port or (443 if u.scheme == "https" else 80)
    addresses = await resolve(host, port, timeout)
    check_addresses(host, port, addresses, settings)
    return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, then connects to the checked address (not the name again)."""

    def __init__(self, settings: Settings, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._settings = settings
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve(host, port, timeout)
        check_addresses(host, port, addresses, self._settings)
        last: Exception | None = None
        for addr in addresses:
            try:
                # TLS still verifies the certificate against the original host name: httpcore
                # passes the origin host as server_hostname to start_tls.
                return await self._inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("unix sockets are not allowed for outbound requests")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that refuses non-http(s) schemes and internal addresses.

    Proxies from the environment are ignored on purpose (`trust_env=False`): a proxy would
    make the guard check the proxy's address instead of the destination's.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        verify: bool | str = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30)
        super().__init__(verify=verify, trust_env=False, limits=limits)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # httpx has no public hook for the network backend; rebuild its pool with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=GuardedNetworkBackend(settings),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_scheme(request.url)
        return await super().handle_async_request(request)


def behind_proxies(app: ASGIApp, settings: Settings) -> ASGIApp:
    """The client address (`scope["client"]`) taken from X-Forwarded-For only when the peer is one of
    `Settings.trusted_proxies` — the right-most address that is not a trusted proxy — and the peer's own
    address otherwise, so a client cannot choose the address its limits are counted under."""
    return ProxyHeadersMiddleware(app, trusted_hosts=settings.trusted_proxies)  # type: ignore[arg-type, return-value]
