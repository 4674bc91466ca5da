"""Bodies of bundles made of steps, for the api tests: the issue's contact → lead → task."""

from __future__ import annotations

from typing import Any

from tests.fixtures.pipeline import CONTACT_MAPPING


def contact_step(connection_id: str, **overrides: Any) -> dict[str, Any]:
    """Update the contact found by Email, else create it."""
    step: dict[str, Any] = {
        "key": "contact",
        "name": "Контакт",
        "action": "create_record",
        "connection_id": connection_id,
        "entity": "Contact",
        "mapping": CONTACT_MAPPING,
        "dedup": {"mode": "update_if_found", "match_fields": ["Email"]},
    }
    return {**step, **overrides}


def lead_step(connection_id: str, **overrides: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "key": "lead",
        "name": "Лид",
        "action": "create_record",
        "connection_id": connection_id,
        "entity": "Lead",
        "mapping": [
            {"target": "LeadName", "template": "Заявка: {{ first_name }} {{ last_name }}"},
            {"target": "QualifiedContactId", "source": "steps.contact.Id"},
        ],
    }
    return {**step, **overrides}


def task_step(connection_id: str, **overrides: Any) -> dict[str, Any]:
    """A task linked to both: the contact and the lead."""
    step: dict[str, Any] = {
        "key": "task",
        "name": "Задача",
        "action": "create_activity",
        "connection_id": connection_id,
        "mapping": [
            {"target": "Title", "template": "Позвонить {{ first_name }}"},
            {"target": "ContactId", "source": "steps.contact.Id"},
            {"target": "LeadId", "source": "steps.lead.Id"},
        ],
    }
    return {**step, **overrides}


def three_steps(connection_id: str) -> list[dict[str, Any]]:
    return [contact_step(connection_id), lead_step(connection_id), task_step(connection_id)]


def steps_body(steps: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Site form → contact, lead, task",
        "source": {"app": "webhook", "trigger": "incoming_request"},
        "steps": steps,
    }
    return {**body, **overrides}
