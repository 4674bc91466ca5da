import pytest

from bpmlink.catalog import WEBHOOK
from bpmlink.catalog.forms import TILDA
from bpmlink.intake.rules import NotAWebhook, UnknownVerification, webhook_rules
from bpmlink.webhooks import VERIFICATION_MODES


def test_a_catalog_trigger_has_its_own_rules() -> None:
    assert webhook_rules("tilda", "form_submission", {}) is TILDA.triggers[0].webhook


def test_the_universal_webhook_builds_its_rules_from_its_config() -> None:
    rules = webhook_rules(
        "webhook",
        "incoming_request",
        {"verification": "query_token", "query_param": "key", "signature_header": "X-Hub", "secret_path": "auth.t"},
    )
    v = rules.verification
    assert (v.mode, v.query_param, v.header, v.path, v.networks_field) == (
        "query_token",
        "key",
        "X-Hub",
        "auth.t",
        "networks",
    )
    assert rules.methods == ["GET", "POST", "PUT"]
    assert webhook_rules("webhook", "incoming_request", {}).verification.header == "X-Signature"


def test_an_unknown_mode_in_a_stored_config_is_refused() -> None:
    with pytest.raises(UnknownVerification):
        webhook_rules("webhook", "incoming_request", {"verification": "md5"})


@pytest.mark.parametrize(("app", "trigger"), [("http_polling", "new_items"), ("nope", "x"), ("webhook", "nope")])
def test_a_trigger_that_is_no_webhook_has_no_rules(app: str, trigger: str) -> None:
    with pytest.raises(NotAWebhook):
        webhook_rules(app, trigger, {})


def test_the_universal_webhook_offers_every_mode() -> None:
    [field] = [f for f in WEBHOOK.triggers[0].config_fields if f.name == "verification"]
    assert tuple(field.options or ()) == VERIFICATION_MODES
