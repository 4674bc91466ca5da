"""A trigger's secret config fields (`FormField.secret`: Telegram's bot token) are write-only.

They are taken out of the bundle's configuration before it is stored or versioned (so neither
`bundles.config` nor `bundle_versions` ever holds them) and kept encrypted, as one JSON object, in
`Bundle.config_secrets_encrypted`. A read names the ones that are set, never their values; an
update that leaves one out (or sends it empty) keeps the stored value.
"""

from __future__ import annotations

from typing import Any

from bpmlink.catalog import Trigger
from bpmlink.kit.security import SecretBox


def take_config_secrets(config: dict[str, Any], trigger: Trigger) -> dict[str, str]:
    """Remove the trigger's secret fields from `config` (the source's config, changed in place);
    return the ones given a value."""
    taken: dict[str, str] = {}
    for field in trigger.config_fields:
        if field.secret and field.name in config:
            value = config.pop(field.name)
            if isinstance(value, str) and value:
                taken[field.name] = value
    return taken


def read_config_secrets(box: SecretBox, encrypted: bytes | None) -> dict[str, str]:
    if not encrypted:
        return {}
    return {k: v for k, v in box.decrypt(encrypted).items() if isinstance(v, str)}


def merged_config_secrets(box: SecretBox, encrypted: bytes | None, given: dict[str, str]) -> bytes | None:
    """The column's new value: the stored secrets with the given ones replacing theirs."""
    values = {**read_config_secrets(box, encrypted), **given}
    return box.encrypt(values) if values else None
