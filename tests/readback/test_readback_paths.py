"""The read-back path is the app's: a sender's value (amoCRM's webhook is not signed) fills one
segment of it as a plain token; anything that could climb out of it or add to its query is refused."""

from __future__ import annotations

import httpx
import pytest

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.catalog import get_app
from bpmlink.pipeline.readback import read_back
from bpmlink.sources.base import PermanentSourceError, SourceConnection
from tests.fixtures.amocrm_api import AMO_TOKEN, AmoCrm

AMOCRM = get_app("amocrm")


def _conn(amocrm_api: AmoCrm) -> SourceConnection:
    return SourceConnection(id="c", app="amocrm", params={"domain": amocrm_api.base_url}, secrets={"token": AMO_TOKEN})


async def _read(amocrm_api: AmoCrm, lead_id: str) -> dict:
    assert AMOCRM is not None and AMOCRM.triggers[0].readback is not None
    item = {"id": lead_id, "_split": {"entity": "leads", "action": "add"}}
    async with httpx.AsyncClient() as http:
        return await read_back(AMOCRM, AMOCRM.triggers[0].readback, item, _conn(amocrm_api), http, StepRecorder())


@pytest.mark.parametrize(
    "hostile",
    ["../account", "31?with=leads", "31#x", "31/../../account", "%2e%2e", "31%2F..", ".", "..", "3 1", "31\n"],
)
async def test_a_hostile_id_is_refused_before_any_request(amocrm_api: AmoCrm, hostile: str) -> None:
    amocrm_api.add_lead(31, "Real", 1764600000)
    with pytest.raises(PermanentSourceError) as refused:
        await _read(amocrm_api, hostile)
    assert refused.value.code == "readback_no_value"
    assert amocrm_api.requests == []


async def test_an_item_without_the_id_is_refused_before_any_request(amocrm_api: AmoCrm) -> None:
    with pytest.raises(PermanentSourceError) as refused:
        await _read(amocrm_api, "")
    assert (refused.value.code, refused.value.message) == (
        "readback_no_value",
        "the item has no usable 'id' to read the record back with",
    )
    assert amocrm_api.requests == []


async def test_the_record_goes_under_into_and_the_item_is_kept(amocrm_api: AmoCrm) -> None:
    amocrm_api.add_lead(31, "Real", 1764600000, contact_ids=(27, 28))
    merged = await _read(amocrm_api, "31")
    assert merged["id"] == "31" and merged["_split"] == {"entity": "leads", "action": "add"}
    assert merged["record"]["name"] == "Real"
    assert [c["id"] for c in merged["record"]["_embedded"]["contacts"]] == [27, 28]
