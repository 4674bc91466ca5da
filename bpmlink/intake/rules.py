"""The webhook rules of a bundle's trigger: the catalog's, or for a trigger that declares none (the
universal webhook) the rules its user configured (`verification`, `signature_header`, …)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bpmlink.catalog import get_app
from bpmlink.catalog.model import Verification, WebhookRules
from bpmlink.webhooks import DEFAULT_SIGNATURE_HEADER, VERIFICATION_MODES

DEFAULT_SECRET_PATH = "secret"  # noqa: S105 - the body field holding the secret, not one
DEFAULT_QUERY_PARAM = "token"
# The universal webhook takes every method the gateway serves (a GET with query parameters is a request too).
GENERIC_METHODS = ["GET", "POST", "PUT"]


class NotAWebhook(LookupError):
    """The app has no webhook trigger of this key: the URL is no webhook."""


class UnknownVerification(ValueError):
    """A stored trigger config names a verification mode that does not exist: every request is refused."""


def webhook_rules(app_key: str, trigger_key: str, trigger_config: Mapping[str, Any]) -> WebhookRules:
    app = get_app(app_key)
    trigger = app.trigger(trigger_key) if app is not None else None
    if trigger is None or trigger.kind != "webhook":
        raise NotAWebhook(f"{app_key}/{trigger_key} is not a webhook trigger")
    if trigger.webhook is not None:
        return trigger.webhook
    return WebhookRules(verification=configured_verification(trigger_config), methods=GENERIC_METHODS)


def configured_verification(config: Mapping[str, Any]) -> Verification:
    """The universal webhook's verification, from its trigger config."""
    mode = str(config.get("verification") or "none")
    if mode not in VERIFICATION_MODES:
        raise UnknownVerification(f"unknown verification mode {mode!r}")
    return Verification(
        mode=mode,  # checked against the Literal's values above
        header=_text(config, "signature_header", DEFAULT_SIGNATURE_HEADER),
        path=_text(config, "secret_path", DEFAULT_SECRET_PATH),
        query_param=_text(config, "query_param", DEFAULT_QUERY_PARAM),
        networks_field="networks",
    )


def _text(config: Mapping[str, Any], name: str, default: str) -> str:
    value = config.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else default
