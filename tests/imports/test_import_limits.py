"""The body size limit: the import route takes BPMLINK_MAX_IMPORT_BYTES, every other route keeps the small one."""

from __future__ import annotations

import pytest

from tests.fixtures.app import make_settings
from tests.imports.conftest import csv_bytes, upload

pytestmark = pytest.mark.usefixtures("_clean_tables")


@pytest.fixture
def settings(db_url, redis_url):
    return make_settings(db_url, redis_url, BPMLINK_MAX_REQUEST_BYTES=4096, BPMLINK_MAX_IMPORT_BYTES=16384)


async def test_an_import_may_exceed_the_request_limit_up_to_the_import_limit(client, import_bundle_id):
    medium = csv_bytes(150)  # ~7 KB: over the request limit, under the import limit
    assert 4096 < len(medium) < 16384
    accepted = await upload(client, import_bundle_id, "medium.csv", medium)
    assert accepted.status_code == 202, accepted.text

    too_large = await upload(client, import_bundle_id, "large.csv", csv_bytes(800))
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "payload_too_large" and "16384" in too_large.json()["error"]["message"]

    # The larger limit is for that route only.
    other = await client.post(f"/api/v1/bundles/{import_bundle_id}/sample", json={"item": {"x": "y" * 6000}})
    assert other.status_code == 413 and "4096" in other.json()["error"]["message"]
