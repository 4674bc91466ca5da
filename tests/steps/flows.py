"""The three-step bundle of the issue, through the public API: contact (update_if_found on Email)
→ lead linked to it → task linked to both, owned by the contact's owner."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.pipeline import CONTACT_MAPPING


def lead_flow_steps(connection_id: str, task_mapping: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "key": "contact",
            "name": "Контакт",
            "connection_id": connection_id,
            "action": "create_record",
            "entity": "Contact",
            "mapping": CONTACT_MAPPING,
            "dedup": {"mode": "update_if_found", "match_fields": ["Email"]},
        },
        {
            "key": "lead",
            "name": "Лид",
            "connection_id": connection_id,
            "action": "create_record",
            "entity": "Lead",
            "mapping": [
                {"target": "QualifiedContactId", "source": "steps.contact.Id"},
                {"target": "Contact", "template": "{{ first_name }} {{ last_name }}"},
                {"target": "Email", "source": "email"},
            ],
        },
        {
            "key": "task",
            "name": "Задача",
            "connection_id": connection_id,
            "action": "create_activity",
            "mapping": task_mapping
            or [
                {"target": "Title", "template": "Перезвонить: {{ first_name }} {{ last_name }}"},
                {"target": "ContactId", "source": "steps.contact.Id"},
                {"target": "LeadId", "source": "steps.lead.Id"},
                {"target": "OwnerId", "source": "steps.contact.OwnerId"},
            ],
            "activity": {"due_in_minutes": 120},
        },
    ]


async def make_lead_flow(client: httpx.AsyncClient, connection_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Заявка с сайта → Контакт + Лид + Задача",
        "source": {"app": "webhook", "trigger": "incoming_request"},
        "steps": lead_flow_steps(connection_id),
        **overrides,
    }
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 201, response.text
    bundle = response.json()
    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")
    assert started.status_code == 200, started.text
    return started.json()
