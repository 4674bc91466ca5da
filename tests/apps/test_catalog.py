"""Every ready-made source app of the catalog is complete enough for a user to set it up.

Checked for all of `APPS` that are sources, so an app added later is checked the same way; the
generic sources (a bare webhook, HTTP or SQL polling, a CSV file, bpm'online itself) have no vendor
to describe and are exempt by name.
"""

from __future__ import annotations

import json
import re

import pytest

from bpmlink.catalog import APPS, App, Trigger
from bpmlink.catalog.model import Label
from tests.apps.recorded import PAYLOADS, load, names

GENERIC = {"bpmonline", "webhook", "http_polling", "sql_polling", "csv_import"}
SOURCE_APPS = sorted(key for key, app in APPS.items() if app.is_source and key not in GENERIC)
SIGNED_MODES = {"header_secret", "hmac_sha256", "timestamped_hmac", "body_secret"}
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LATIN = re.compile("[a-z]", re.IGNORECASE)

# The catalog keys of issue #15's webhook-only apps are public API: renaming one breaks saved bundles.
ISSUE_15_KEYS = {
    "tilda", "yandex_forms", "typeform", "jotform", "elementor",
    "jivo", "vk", "telegram", "woocommerce", "shopify", "calendly",
}  # fmt: skip


def _filled(label: Label | None) -> bool:
    return label is not None and bool(label.en.strip()) and bool(label.ru.strip())


def _webhook_triggers(app: App) -> list[Trigger]:
    return [t for t in app.triggers if t.kind == "webhook"]


def test_issue_15_apps_are_in_the_catalog_under_their_keys() -> None:
    assert ISSUE_15_KEYS <= set(SOURCE_APPS)


@pytest.mark.parametrize("key", SOURCE_APPS)
def test_app_is_described_in_both_languages(key: str) -> None:
    app = APPS[key]
    assert _filled(app.label), "label"
    assert _filled(app.description), "description"
    assert app.category != "generic", "a ready-made app has its own category"
    assert any(CYRILLIC.search(k) for k in app.keywords), "search keywords in Russian"
    assert any(LATIN.search(k) for k in app.keywords), "search keywords in English"
    assert app.triggers, "at least one trigger"
    for trigger in app.triggers:
        assert _filled(trigger.label), f"{trigger.key}: label"
        for config_field in trigger.config_fields:
            assert _filled(config_field.label), f"{trigger.key}.{config_field.name}: label"
            assert not config_field.secret or config_field.type == "password", "a secret is typed as a password"


@pytest.mark.parametrize("key", SOURCE_APPS)
def test_webhook_triggers_say_where_the_url_goes(key: str) -> None:
    for trigger in _webhook_triggers(APPS[key]):
        assert trigger.instructions is not None, f"{trigger.key}: instructions"
        assert "{url}" in trigger.instructions.en, f"{trigger.key}: the English instructions show the URL"
        assert "{url}" in trigger.instructions.ru, f"{trigger.key}: the Russian instructions show the URL"
        assert trigger.webhook is not None, f"{trigger.key}: a ready-made app declares its webhook rules"


@pytest.mark.parametrize("key", SOURCE_APPS)
def test_triggers_label_their_fields_with_examples(key: str) -> None:
    for trigger in APPS[key].triggers:
        assert trigger.fields, f"{trigger.key}: the mapping step needs labelled fields before a request arrives"
        for source_field in trigger.fields:
            assert source_field.path.strip(), f"{trigger.key}: a field without a path"
            assert _filled(source_field.label), f"{trigger.key}.{source_field.path}: label"
            assert source_field.example not in (None, ""), f"{trigger.key}.{source_field.path}: example"


@pytest.mark.parametrize("key", SOURCE_APPS)
def test_rules_name_only_config_fields_the_trigger_has(key: str) -> None:
    for trigger in _webhook_triggers(APPS[key]):
        rules = trigger.webhook
        assert rules is not None
        named = {f.name for f in trigger.config_fields}
        wanted = [rules.verification.header_field, rules.verification.networks_field]
        for answer in [rules.answer, *(t.answer for t in rules.tests if t.answer)]:
            if answer.body == "config":
                wanted.append(answer.field)
        wanted += [t.token_field for t in rules.tests]
        missing = {name for name in wanted if name} - named
        assert not missing, f"{trigger.key}: rules read config fields it does not declare: {missing}"


@pytest.mark.parametrize("key", SOURCE_APPS)
def test_app_has_recorded_requests(key: str) -> None:
    assert (PAYLOADS / key).is_dir(), f"tests/apps/payloads/{key}/ is missing"
    recorded = names(key)
    if not _webhook_triggers(APPS[key]):
        # A polled app records what its source serves (sheet_url: a CSV file), not requests to us.
        assert any(p.name != "README.md" for p in (PAYLOADS / key).iterdir()), f"{key}: no recorded source data"
        return
    assert recorded, f"tests/apps/payloads/{key}/ holds no request"
    for name in recorded:
        data = json.loads((PAYLOADS / key / f"{name}.json").read_text())
        assert {"method", "headers", "query", "content_type", "body", "note"} <= set(data), name
        assert data["note"].strip(), f"{name}: say where in the vendor's docs it comes from"
        assert isinstance(data["body"], str), f"{name}: the body is text, as sent"
    signing = {t.webhook.verification.mode for t in _webhook_triggers(APPS[key]) if t.webhook} & SIGNED_MODES
    if signing:
        assert any(load(key, name).signature for name in recorded), "say how the vendor signs (`signature`)"


def test_every_start_hook_a_trigger_names_exists() -> None:
    from bpmlink_api.bundles.lifecycle import START_HOOKS

    named = {t.on_start for app in APPS.values() for t in app.triggers if t.on_start}
    assert named, "Telegram registers its URL on start"
    assert named <= set(START_HOOKS)
