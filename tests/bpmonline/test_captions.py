"""Captions read from the instance's DataService, cached per connection, the dictionary standing in."""

from typing import Any

from bpmlink.bpmonline import captions

OAUTH = {"auth": "oauth", "client_id": "bpmlink-sandbox", "client_secret": "bpmlink-sandbox-secret"}


def _dataservice_calls(counts: dict[str, Any]) -> int:
    return sum(n for key, n in counts["requests"].items() if key.endswith(" dataservice"))


async def test_captions_are_read_from_the_instance_once_and_cached(make_client, sbx):
    await sbx.set_faults(culture="ru-RU")
    await sbx.admin("POST", "/schema", {"columns": {"Contact": {"UsrTier": {"kind": "text", "caption": "Уровень"}}}})
    bpm = make_client()
    columns = await captions.instance_columns(bpm, "Contact")
    assert captions.column_caption("Contact", "MobilePhone", "ru", columns) == "Мобильный телефон"
    assert captions.column_caption("Contact", "UsrTier", "ru", columns) == "Уровень"
    names = await captions.instance_entities(bpm)
    assert captions.entity_caption("Account", "ru", names) == "Контрагент"
    again = make_client()  # another client of the same connection shares the cache
    assert await captions.instance_columns(again, "Contact") == columns
    assert await captions.instance_entities(again) == names
    assert _dataservice_calls(await sbx.counts()) == 2  # one schema, one list
    await captions.instance_columns(again, "Contact", refresh=True)
    assert _dataservice_calls(await sbx.counts()) == 3


async def test_the_service_down_leaves_the_dictionary(make_client, sbx):
    await sbx.set_faults(culture="ru-RU", captions_failure="500")
    bpm = make_client()
    columns = await captions.instance_columns(bpm, "Contact")
    assert columns == {}
    assert captions.column_caption("Contact", "MobilePhone", "ru", columns) == "Мобильный телефон"
    assert captions.column_caption("Contact", "MobilePhone", "en", columns) == "Mobile phone"
    assert captions.column_caption("Contact", "UsrUnknown", "ru", columns) == "UsrUnknown"
    assert (await bpm.metadata()).entity("Contact").fields["MobilePhone"]  # the metadata read is untouched


async def test_an_oauth_connection_without_access_reads_the_dictionary(make_client, sbx):
    await sbx.set_faults(culture="ru-RU", dataservice_bearer="403")
    await sbx.admin("POST", "/schema", {"columns": {"Contact": {"UsrTier": {"kind": "text", "caption": "Уровень"}}}})
    bpm = make_client(**OAUTH)
    assert await captions.instance_entities(bpm) == {}
    columns = await captions.instance_columns(bpm, "Contact")
    assert captions.column_caption("Contact", "Account", "ru", columns) == "Контрагент"
    assert captions.column_caption("Contact", "UsrTier", "ru", columns) == "UsrTier"


async def test_an_instance_caption_in_another_culture_loses_to_the_dictionary_but_beats_the_code(make_client, sbx):
    await sbx.set_faults(culture="en-US")
    await sbx.admin("POST", "/schema", {"columns": {"Contact": {"UsrTier": {"kind": "text", "caption": "Tier"}}}})
    columns = await captions.instance_columns(make_client(), "Contact")
    assert captions.column_caption("Contact", "MobilePhone", "ru", columns) == "Мобильный телефон"
    assert captions.column_caption("Contact", "UsrTier", "ru", columns) == "Tier"
    assert captions.column_caption("Contact", "MobilePhone", "en", columns) == "Mobile phone"


async def test_the_instances_own_caption_in_the_readers_language_beats_the_dictionary(make_client, sbx):
    # An administrator renamed a standard column and entity: the instance's words are the ones shown.
    await sbx.admin("POST", "/schema", {"captions": {"Contact": {"": {"ru-RU": "Клиент"}, "MobilePhone": "Сотовый"}}})
    await sbx.set_faults(culture="ru-RU")
    columns = await captions.instance_columns(make_client(), "Contact")
    assert captions.column_caption("Contact", "MobilePhone", "ru", columns) == "Сотовый"
    assert captions.entity_caption("Contact", "ru", {"Contact": columns[""]}) == "Клиент"
    assert captions.column_caption("Contact", "MobilePhone", "en", columns) == "Mobile phone"
