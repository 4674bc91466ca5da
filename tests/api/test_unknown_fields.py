"""Every write refuses a field it does not know (422 naming it) instead of dropping it silently."""

import pytest
from bpmlink_api.app import create_app

from tests.fixtures.accounts import login, make_workspace


def _lenient(schema: dict, components: dict, seen: set[str]) -> list[str]:
    """Names of the object schemas under `schema` (following $refs) that admit unknown properties."""
    if ref := schema.get("$ref"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        found = _lenient(components[name], components, seen)
        return [name if f == "" else f for f in found]
    found = [""] if "properties" in schema and schema.get("additionalProperties") is not False else []
    children = [*schema.get("properties", {}).values(), *schema.get("anyOf", []), *schema.get("allOf", [])]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            children.append(schema[key])
    for child in children:
        found += _lenient(child, components, seen)
    return found


def test_every_request_body_forbids_unknown_fields(settings):
    spec = create_app(settings).openapi()
    components = spec["components"]["schemas"]
    lenient = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:  # (file uploads are multipart forms)
                if found := _lenient(content["application/json"]["schema"], components, set()):
                    lenient[f"{method.upper()} {path}"] = found
    assert lenient == {}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/workspace", {"name": "WS", "emails": ["a@example.com"]}),
        ("patch", "/api/v1/workspace", {"notifications": {"emails": [], "failures_per_hr": 5}}),
        ("post", "/api/v1/api-keys", {"name": "k", "scope": "read"}),
        ("post", "/api/v1/auth/login", {"email": "a@example.com", "password": "x", "remember": True}),
    ],
)
async def test_an_unknown_field_answers_422_naming_it(client, sessionmaker, method, path, body):
    await login(client, await make_workspace(sessionmaker))
    response = await client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] in {"emails", "notifications.failures_per_hr", "scope", "remember"}
    assert error["details"][0]["field"] in error["message"]
