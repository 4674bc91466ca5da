"""Telegram: a bundle given the bot's token registers its own URL when it starts.

Telegram sends updates only to the one URL its `setWebhook` names, and proves them with the
`secret_token` given there (header X-Telegram-Bot-Api-Secret-Token). So on start, with a bot token
among the bundle's config secrets, bpmlink calls `setWebhook` with the bundle's URL and a fresh
random secret, and keeps that secret as the bundle's webhook secret: the gateway's header check
then accepts Telegram and nobody else. Without a token nothing is called (the user registered the
URL with a secret of their own). The call goes through the outbound address guard to
`Settings.telegram_api_url`; a refusal stops the start with the code `telegram_webhook_failed`
and Telegram's own description beside it. The token is never logged or shown: the URL that holds
it appears nowhere in an error.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from bpmlink.bundle_secrets import read_config_secrets
from bpmlink.db.models import Bundle
from bpmlink.kit.messages import Message, message
from bpmlink.kit.net import BlockedAddressError, GuardedTransport
from bpmlink.kit.web import AppError
from bpmlink.webhooks import encrypt_webhook_secret, stored_webhook_token, webhook_url
from bpmlink_api.deps import RequestContext

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class TelegramWebhookFailed(AppError):
    """Telegram did not take the URL; `details` holds `code`, `params` and Telegram's `description`."""

    status_code = 502
    code = "telegram_webhook_failed"


def _failed(why: Message, **params: Any) -> TelegramWebhookFailed:
    words = message(
        "telegram_webhook_failed",
        f"Telegram did not register the bundle's URL: {why.text}",
        remote=why.remote,
        reason=why.model_dump(exclude_none=True),
    )
    return TelegramWebhookFailed(words, details={"code": "telegram_webhook_failed", "params": params})


async def register_webhook(ctx: RequestContext, bundle: Bundle) -> None:
    """Point the bot at the bundle's URL under a new secret (no bot token: nothing to do)."""
    token = read_config_secrets(ctx.box, bundle.config_secrets_encrypted).get("bot_token")
    hook_token = stored_webhook_token(ctx.box, bundle.webhook_token_encrypted)
    if not token or not hook_token:
        return
    secret = secrets.token_urlsafe(32)  # Telegram allows A-Z a-z 0-9 _ - only, 1-256 characters
    body = {"url": webhook_url(ctx.settings, hook_token), "secret_token": secret}
    endpoint = f"{ctx.settings.telegram_api_url.rstrip('/')}/bot{token}/setWebhook"
    transport = GuardedTransport(ctx.settings)
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT, trust_env=False) as client:
        try:
            response = await client.post(endpoint, json=body)
        except BlockedAddressError as exc:
            raise _failed(
                message("telegram_address_blocked", "the Telegram API address is not allowed"), reason="blocked_address"
            ) from exc
        except httpx.HTTPError as exc:
            raise _failed(
                message("telegram_unreachable", "Telegram could not be reached"),
                reason="unreachable",
                error=type(exc).__name__,
            ) from exc
    answer = _json(response)
    if response.status_code != 200 or answer.get("ok") is not True:
        description = str(answer.get("description") or response.reason_phrase)
        raise _failed(
            message("telegram_refused", description, remote=description),
            reason="refused",
            status=response.status_code,
            description=description,
        )
    bundle.webhook_secret_encrypted = encrypt_webhook_secret(ctx.box, secret)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
