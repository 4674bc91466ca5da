"""The start-up warning for a gateway that senders using only IPv6 (Yandex Forms) cannot reach."""

from __future__ import annotations

import logging

import pytest
from bpmlink_gateway.app import create_app
from bpmlink_gateway.reach import ipv4_only_warning

from bpmlink.kit.settings import Settings
from tests.fixtures.app import make_settings


def at(settings: Settings, **env: str) -> Settings:
    return make_settings(settings.database_url, settings.redis_url, **env)


def test_a_public_ipv4_only_listener_without_a_proxy_is_warned_about(settings: Settings) -> None:
    warning = ipv4_only_warning(at(settings, BPMLINK_HOST="0.0.0.0"))  # noqa: S104
    assert warning is not None and "IPv6" in warning and "BPMLINK_HOST=::" in warning


@pytest.mark.parametrize(
    "env",
    [
        {"BPMLINK_HOST": "::"},
        {"BPMLINK_HOST": "127.0.0.1"},
        {"BPMLINK_HOST": "0.0.0.0", "BPMLINK_TRUSTED_PROXIES": "10.0.0.0/8"},  # noqa: S104
        {"BPMLINK_HOST": "hooks.internal"},
    ],
    ids=["dual-stack", "loopback", "behind-a-proxy", "a-name"],
)
def test_no_warning_where_ipv6_senders_can_arrive_or_nobody_outside_can(
    settings: Settings, env: dict[str, str]
) -> None:
    assert ipv4_only_warning(at(settings, **env)) is None


async def test_the_gateway_says_it_at_start(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(at(settings, BPMLINK_HOST="0.0.0.0"))  # noqa: S104
    with caplog.at_level(logging.WARNING, logger="bpmlink.gateway"):
        async with app.router.lifespan_context(app):
            pass
    assert any("IPv4 only" in r.getMessage() for r in caplog.records)
