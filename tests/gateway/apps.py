"""Catalog entries that exist only in these tests, injected by the `test_apps` fixture: each exercises one
kind of rule (split, handshakes and answers, signatures, addresses) the way a real app's entry would."""

from __future__ import annotations

from bpmlink.catalog.model import (
    Answer,
    App,
    FormField,
    Idempotency,
    Match,
    Split,
    TestRequest,
    Trigger,
    Verification,
    WebhookRules,
)
from bpmlink.catalog.model import label as _l


def _app(key: str, rules: WebhookRules, config_fields: list[FormField] | None = None) -> App:
    trigger = Trigger(
        key="event", label=_l("Event", "Событие"), kind="webhook", webhook=rules, config_fields=config_fields or []
    )
    return App(key=key, label=_l(key, key), is_source=True, needs_connection=False, triggers=[trigger])


# amoCRM-like: one form request, one item per entity element, the account kept beside each; a
# WooCommerce-like ping (the form `webhook_id=…` alone) checks the URL.
SPLIT = _app(
    "test_split",
    WebhookRules(
        split=Split(path="{entity:leads|contacts}.{action}.*", keep=["account"]),
        tests=[TestRequest(when=Match(only_fields=["webhook_id"]), verified=False)],
        idempotency=Idempotency(parts=["account.id", "_split.entity", "_split.action", "id", "?last_modified"]),
    ),
)

# VK-like confirmation (answered with a configured string, signed by a body secret), a Facebook-like GET
# challenge (unsigned, proved by a verify token, the challenge echoed), and "ok" to every real request.
HANDSHAKE = _app(
    "test_handshake",
    WebhookRules(
        verification=Verification(mode="body_secret", path="secret"),
        tests=[
            TestRequest(
                when=Match(field="type", equals="confirmation"),
                answer=Answer(status=200, content_type="text/plain", body="config", field="confirmation"),
            ),
            TestRequest(
                when=Match(method="GET", field="hub.mode", equals="subscribe"),
                answer=Answer(status=200, content_type="text/plain", body="query", field="hub.challenge"),
                verified=False,
                token="hub.verify_token",
                token_field="verify_token",
            ),
            TestRequest(when=Match(field="ping"), answer=Answer(status=204, body="empty"), verified=False),
        ],
        idempotency=Idempotency(parts=["event_id"]),
        answer=Answer(status=200, content_type="text/plain", body="text", text="ok"),
        methods=["GET", "POST"],
    ),
    [FormField(name="confirmation", label=_l("c", "c")), FormField(name="verify_token", label=_l("t", "t"))],
)

# GitHub-like: hex HMAC after a `sha256=` prefix in a named header; a JSON field holding JSON text.
SIGNED = _app(
    "test_signed",
    WebhookRules(
        verification=Verification(mode="hmac_sha256", header="X-Hub-Signature-256", encoding="hex", prefix="sha256=")
    ),
)

# Stripe/Calendly-like timestamped signature, tolerance one minute.
STAMPED = _app(
    "test_stamped",
    WebhookRules(verification=Verification(mode="timestamped_hmac", header="Stripe-Signature", tolerance_seconds=60)),
)

# Yandex-Forms-like: only from the sender's networks (built in), plus those the user adds.
ADDRESSED = _app(
    "test_addressed",
    WebhookRules(verification=Verification(mode="address", networks=["2a02:6b8:c00::/40"], networks_field="extra")),
    [FormField(name="extra", label=_l("n", "n"), type="text")],
)

TEST_APPS = (SPLIT, HANDSHAKE, SIGNED, STAMPED, ADDRESSED)
