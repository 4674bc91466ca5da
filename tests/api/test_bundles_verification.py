"""A bundle's webhook verification, as the API takes it: every mode the gateway knows, nothing else."""

import pytest

from bpmlink.webhooks import VERIFICATION_MODES
from tests.fixtures.pipeline import bundle_body


def webhook(**config: str) -> dict:
    return {"app": "webhook", "trigger": "incoming_request", "config": config}


async def test_an_unknown_verification_mode_is_422_naming_the_field(client, owner, connection_id):
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=webhook(verification="md5")))
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]
    assert problem["field"] == "source.config.verification"
    assert "timestamped_hmac" in problem["message"]
    assert (problem["code"], "timestamped_hmac" in problem["params"]["options"]) == ("not_an_option", True)


@pytest.mark.parametrize(
    ("networks", "message", "code", "params"),
    [
        ("2a02:6b8:c00::/40\n10.0.0.0/33", "'10.0.0.0/33' is not", "network_invalid", {"value": "10.0.0.0/33"}),
        ("", "at least one network", "networks_required", {}),
    ],
    ids=["bad-cidr", "none"],
)
async def test_address_verification_needs_valid_networks(client, owner, connection_id, networks, message, code, params):
    source = webhook(verification="address", networks=networks)
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=source))
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["details"]
    assert problem["field"] == "source.config.networks"
    assert message in problem["message"]
    assert (problem["code"], problem["params"]) == (code, params)


@pytest.mark.parametrize("mode", VERIFICATION_MODES)
async def test_every_mode_the_gateway_knows_is_taken(client, owner, connection_id, mode):
    source = webhook(verification=mode, networks="2a02:6b8:c00::/40\n203.0.113.0/24")
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=source))
    assert response.status_code == 201, response.text
