"""Per-bundle request verification: a shared secret in a header, or an HMAC-SHA256 of the body.

Both compare in constant time (hmac.compare_digest). The HMAC header may hold the hex digest
(any case, optionally `sha256=`-prefixed, as GitHub sends it) or its base64 (as Shopify does).
A bundle configured for verification but without a stored secret refuses every request:
failing closed is the only safe reading of a half-finished configuration.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping


class VerificationFailed(Exception):
    """The request is not from the configured sender; nothing is stored."""


def verify_request(mode: str, header_name: str, secret: str | None, headers: Mapping[str, str], body: bytes) -> None:
    """Raise VerificationFailed unless the request passes the bundle's verification mode."""
    if mode in ("", "none"):
        return
    if mode not in ("header_secret", "hmac_sha256"):
        raise VerificationFailed(f"unknown verification mode {mode!r}")
    if not secret:
        raise VerificationFailed("verification is configured but no secret is set")
    given = headers.get(header_name.lower(), "").strip()
    if not given:
        raise VerificationFailed(f"the {header_name} header is missing")
    if mode == "header_secret":
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise VerificationFailed(f"the {header_name} header does not match the secret")
        return
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(_signature_bytes(given), expected):
        raise VerificationFailed(f"the {header_name} signature does not match the body")


def _signature_bytes(value: str) -> bytes:
    if value[:7].lower() == "sha256=":
        value = value[7:]
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""
