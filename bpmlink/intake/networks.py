"""Networks a sender's address must be in (the `address` verification), as a user or the catalog spells them."""

from __future__ import annotations

import functools
import ipaddress
import re

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_SEPARATORS = re.compile(r"[\s,;]+")
MAX_NETWORKS = 200  # a user's list is bounded like any other pattern


class NetworkListError(ValueError):
    """A list that is not networks: `code` (`network_invalid`, `too_many_networks`) and its `params`."""

    def __init__(self, message: str, code: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@functools.lru_cache(maxsize=1024)
def parse_networks(spelled: str) -> tuple[Network, ...]:
    """CIDRs (or single addresses) separated by new lines, commas or spaces; NetworkListError names the first
    that is not one."""
    networks = []
    for word in _SEPARATORS.split(spelled.strip()):
        if word:
            try:
                networks.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                message = f"{word!r} is not an IPv4 or IPv6 network"
                raise NetworkListError(message, "network_invalid", value=word) from None
    if len(networks) > MAX_NETWORKS:
        raise NetworkListError(f"more than {MAX_NETWORKS} networks", "too_many_networks", limit=MAX_NETWORKS)
    return tuple(networks)
