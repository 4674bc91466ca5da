"""Proving a request comes from its sender, by the trigger's `Verification` (bpmlink.catalog.model).

Modes: a shared secret in a header (`header_secret`), in the body (`body_secret`) or in the query
(`query_token`); an HMAC-SHA256 of the raw body (`hmac_sha256`: hex or base64, after an optional prefix
such as GitHub's `sha256=`); a timestamped HMAC (`timestamped_hmac`: `t=<unix>,v1=<hex>` over
"<t>.<body>", Stripe's and Calendly's scheme, `t` within the tolerance so a captured request cannot be
replayed later); the sender's address (`address`: IPv4/IPv6 networks). Every secret is compared in
constant time (hmac.compare_digest). A mode that needs a secret refuses every request while none is set
(failing closed is the only safe reading of a half-finished configuration) unless it is `optional`.
Each refusal carries a stable `reason` code and its params, for the 401's details.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bpmlink.catalog.model import Verification
from bpmlink.intake.networks import parse_networks
from bpmlink.intake.paths import get, text

MAX_SIGNATURES = 8  # v1= candidates read from one timestamped header (a sender rotating its secret sends two)


class VerificationFailed(Exception):
    """The request is not from the configured sender; nothing is stored."""

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Presented:
    """What a request shows to be checked."""

    headers: Mapping[str, str]  # lower-case names
    body: bytes
    query_string: bytes = b""
    client: str | None = None
    item: Mapping[str, Any] = field(default_factory=dict)  # the parsed body (query fields merged)


def header_name(rule: Verification, config: Mapping[str, Any]) -> str | None:
    """The header the rule reads: the trigger config field `header_field` names it, else `header`."""
    if rule.header_field:
        named = config.get(rule.header_field)
        if isinstance(named, str) and named.strip():
            return named.strip()
    return rule.header


def verify(
    rule: Verification,
    *,
    secret: str | None,
    config: Mapping[str, Any],
    request: Presented,
    now: float | None = None,
) -> None:
    """Raise VerificationFailed unless the request passes the rule."""
    if rule.mode == "none":
        return
    if rule.mode == "address":
        _check_address(rule, config, request.client)
        return
    if not secret:
        if rule.optional:
            return
        raise VerificationFailed("secret_not_set", "verification is configured but no secret is set")
    if rule.mode == "body_secret":
        _equal(text(get(request.item, rule.path or "")), secret, "body", rule.path or "")
    elif rule.mode == "query_token":
        param = rule.query_param or ""
        given = next((v for k, v in parse_qsl(request.query_string.decode("latin-1")) if k == param), None)
        _equal(given, secret, "query", param)
    else:
        name = header_name(rule, config)
        if not name:
            raise VerificationFailed("header_not_configured", "no header is configured for the secret")
        given = request.headers.get(name.lower(), "").strip()
        if rule.mode == "header_secret":
            _equal(given, secret, "header", name)
        elif rule.mode == "hmac_sha256":
            _check_hmac(rule, name, given, secret, request.body)
        else:
            _check_timestamped(rule, name, given, secret, request.body, time.time() if now is None else now)


_SPELLED = {"body": "body field", "query": "query parameter", "header": "header"}


def _equal(given: str | None, secret: str, where: str, name: str) -> None:
    """`where` (a param of the refusal): body, query or header."""
    spelled = f"the {_SPELLED[where]} {name}"
    if not given:
        raise VerificationFailed("secret_missing", f"{spelled} is missing", where=where, name=name)
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise VerificationFailed("secret_mismatch", f"{spelled} does not match the secret", where=where, name=name)


def _check_hmac(rule: Verification, name: str, given: str, secret: str, body: bytes) -> None:
    if not given:
        raise VerificationFailed("signature_missing", f"the {name} header is missing", header=name)
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(_signature_bytes(given, rule), expected):
        raise VerificationFailed("signature_mismatch", f"the {name} signature does not match the body", header=name)


def _signature_bytes(value: str, rule: Verification) -> bytes:
    """The digest a header holds; b"" (which matches nothing) when it cannot be one."""
    if rule.prefix:
        if value[: len(rule.prefix)].lower() != rule.prefix.lower():
            return b""
        value = value[len(rule.prefix) :]
    elif value[:7].lower() == "sha256=":  # GitHub's prefix, taken where no prefix is declared
        value = value[7:]
    if rule.encoding in ("hex", "auto") and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    if rule.encoding in ("base64", "auto"):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    return b""


def _check_timestamped(rule: Verification, name: str, given: str, secret: str, body: bytes, now: float) -> None:
    if not given:
        raise VerificationFailed("signature_missing", f"the {name} header is missing", header=name)
    stamp, signatures = "", list[str]()
    for part in given.split(",")[: MAX_SIGNATURES + 1]:
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1" and len(signatures) < MAX_SIGNATURES:
            signatures.append(value)
    if not stamp.isdigit() or not signatures:
        raise VerificationFailed(
            "signature_malformed", f"the {name} header is not t=<time>,v1=<signature>", header=name
        )
    if abs(now - int(stamp)) > rule.tolerance_seconds:
        raise VerificationFailed(
            "timestamp_out_of_tolerance",
            f"the {name} timestamp is more than {rule.tolerance_seconds} s from now",
            header=name,
            tolerance_seconds=rule.tolerance_seconds,
        )
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).digest()
    # Every candidate is compared (no early exit on the first match): the time taken says nothing.
    matched = False
    for signature in signatures:
        try:
            candidate = bytes.fromhex(signature)
        except ValueError:
            candidate = b""
        matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise VerificationFailed("signature_mismatch", f"the {name} signature does not match the body", header=name)


def _check_address(rule: Verification, config: Mapping[str, Any], client: str | None) -> None:
    spelled = " ".join(rule.networks)
    if rule.networks_field and isinstance(config.get(rule.networks_field), str):
        spelled += " " + config[rule.networks_field]
    try:
        networks = parse_networks(spelled)
    except ValueError as exc:
        raise VerificationFailed("networks_invalid", f"the allowed networks are not valid: {exc}") from None
    if not networks:
        raise VerificationFailed("networks_not_set", "address verification is configured but no network is set")
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        raise VerificationFailed("address_unknown", "the sender's address is not known") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 sender seen on a dual-stack socket
    if not any(address.version == n.version and address in n for n in networks):
        raise VerificationFailed(
            "address_not_allowed", f"the address {address} is not among the allowed networks", address=str(address)
        )
