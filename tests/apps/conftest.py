"""Fixtures of the source-app tests: the Telegram Bot API stand-in."""

from tests.fixtures.telegram_api import telegram_api

__all__ = ["telegram_api"]
