"""The app catalog: every kind of system, declared once with its connection fields, triggers and
actions, and for a source app the rules its requests follow. The API serves it (`GET /api/v1/apps`),
the wizard renders it, validation, the gateway and the worker read it."""

from __future__ import annotations

from .chats import CHAT_APPS
from .crm import CRM_APPS
from .files import FILE_APPS
from .forms import FORM_APPS
from .generic import BPMONLINE, CSV_IMPORT, GENERIC_APPS, HTTP_POLLING, SQL_POLLING, WEBHOOK
from .leads_ads import LEAD_AD_APPS
from .model import Action, App, FormField, Label, SourceField, Trigger, WebhookRules
from .payments import PAYMENT_APPS
from .shops import SHOP_APPS

__all__ = [
    "APPS",
    "BPMONLINE",
    "CSV_IMPORT",
    "HTTP_POLLING",
    "SQL_POLLING",
    "WEBHOOK",
    "Action",
    "App",
    "FormField",
    "Label",
    "SourceField",
    "Trigger",
    "WebhookRules",
    "get_app",
]

APPS: dict[str, App] = {
    a.key: a
    for a in (
        *GENERIC_APPS,
        *FORM_APPS,
        *CRM_APPS,
        *CHAT_APPS,
        *LEAD_AD_APPS,
        *SHOP_APPS,
        *PAYMENT_APPS,
        *FILE_APPS,
    )
}


def get_app(key: str) -> App | None:
    return APPS.get(key)
