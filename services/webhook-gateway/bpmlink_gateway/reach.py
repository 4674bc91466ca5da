"""Whether senders that use only IPv6 can reach the gateway (Yandex Forms sends from 2a02:6b8:c00::/40
only, over IPv6: deploy/README.md "IPv6").

A gateway bound to an IPv4 address other than loopback, with no proxy in front (no
BPMLINK_TRUSTED_PROXIES), is served to the internet as it is, and IPv4 only: said once at start, since
nothing else would show it (such a sender's requests never arrive, so history stays empty).
"""

from __future__ import annotations

import ipaddress

from bpmlink.kit.settings import Settings


def ipv4_only_warning(settings: Settings) -> str | None:
    try:
        host = ipaddress.ip_address(settings.host)
    except ValueError:
        return None  # a name: what it resolves to is the operator's choice
    if host.version != 4 or host.is_loopback or settings.trusted_proxies:
        return None
    return (
        f"the gateway listens on {settings.host}, IPv4 only, with no proxy in front: senders that use only IPv6 "
        "(Yandex Forms) cannot reach it; set BPMLINK_HOST=:: (IPv4 and IPv6) or serve it behind a dual-stack "
        "proxy (BPMLINK_TRUSTED_PROXIES)"
    )
