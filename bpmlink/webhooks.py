"""Webhook tokens, URLs and verification secrets: what the api and the gateway share.

A bundle with the `webhook` source has a `webhook_token` (a long random string; the
URL is `{BPMLINK_PUBLIC_GATEWAY_URL}/hooks/{token}`). Regenerating the token makes the
old URL answer 404. The optional verification secret (trigger config `verification`
= `header_secret` or `hmac_sha256`) is stored encrypted in
`Bundle.webhook_secret_encrypted` and only the gateway decrypts it.
"""

from __future__ import annotations

import secrets
from typing import Any

from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings

VERIFICATION_MODES = ("none", "header_secret", "hmac_sha256")
DEFAULT_SIGNATURE_HEADER = "X-Signature"


def new_webhook_token() -> str:
    """A fresh token: 32 random bytes, URL-safe (43 characters; the column holds 64)."""
    return secrets.token_urlsafe(32)


def webhook_url(settings: Settings, token: str) -> str:
    """The full public URL of the token's endpoint on the gateway."""
    base = settings.public_gateway_url.rstrip("/") or f"http://{settings.host}:{settings.gateway_port}"
    return f"{base}/hooks/{token}"


def encrypt_webhook_secret(box: SecretBox, secret: str) -> bytes:
    """The value for `Bundle.webhook_secret_encrypted`."""
    return box.encrypt({"secret": secret})


def decrypt_webhook_secret(box: SecretBox, encrypted: bytes | None) -> str | None:
    if not encrypted:
        return None
    value = box.decrypt(encrypted).get("secret")
    return value if isinstance(value, str) and value else None


def trigger_config(bundle_config: dict[str, Any]) -> dict[str, Any]:
    """The webhook trigger's config (`config["source"]["config"]`), {} when absent."""
    source = bundle_config.get("source") if isinstance(bundle_config, dict) else None
    config = source.get("config") if isinstance(source, dict) else None
    return config if isinstance(config, dict) else {}
