"""Webhook tokens, URLs and verification secrets: what the api and the gateway share.

A bundle with the `webhook` source has a token (a long random string; the URL is
`{BPMLINK_PUBLIC_GATEWAY_URL}/hooks/{token}`). The token is a credential, so the database holds
its SHA-256 (`Bundle.webhook_token_hash`, what the gateway looks a request up by: 32 random bytes
need no slow hash) and, so the bundle read can keep showing the URL, the token encrypted like a
connection secret (`Bundle.webhook_token_encrypted`, which only the api decrypts). A database dump
alone opens no webhook. Regenerating the token makes the old URL answer 404.

The optional verification secret (the trigger's `Verification`: the catalog's rules, or the
universal webhook's config `verification`, one of VERIFICATION_MODES) is stored encrypted in
`Bundle.webhook_secret_encrypted` and only the gateway decrypts it.
"""

from __future__ import annotations

import secrets
from typing import Any, get_args

from bpmlink.catalog.model import Verification
from bpmlink.kit.security import SecretBox, hash_token
from bpmlink.kit.settings import Settings

VERIFICATION_MODES: tuple[str, ...] = get_args(Verification.model_fields["mode"].annotation)
DEFAULT_SIGNATURE_HEADER = "X-Signature"


def new_webhook_token() -> str:
    """A fresh token: 32 random bytes, URL-safe (43 characters; the column holds 64)."""
    return secrets.token_urlsafe(32)


def hash_webhook_token(token: str) -> str:
    """The value of `Bundle.webhook_token_hash` for a token (what the gateway looks requests up by)."""
    return hash_token(token)


def webhook_token_columns(box: SecretBox, token: str) -> dict[str, Any]:
    """The bundle's columns for a token: its hash and the token encrypted, e.g. `Bundle(**columns)`."""
    return {"webhook_token_hash": hash_webhook_token(token), "webhook_token_encrypted": box.encrypt({"token": token})}


def stored_webhook_token(box: SecretBox, encrypted: bytes | None) -> str | None:
    """The token back from `Bundle.webhook_token_encrypted`, to show the URL; None when there is none."""
    if not encrypted:
        return None
    value = box.decrypt(encrypted).get("token")
    return value if isinstance(value, str) and value else None


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
