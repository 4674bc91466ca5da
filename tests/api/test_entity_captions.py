"""GET …/entities and …/entities/{name}: captions and type words in the reader's language."""

import pytest

from bpmlink.bpmonline.captions import captions_cache
from tests.fixtures.accounts import login, make_workspace

from .test_connections import bpm_body


async def _connection(client, sessionmaker, sandbox, language: str) -> str:
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    assert (await client.patch("/api/v1/auth/profile", json={"language": language})).status_code == 200
    body = bpm_body(sandbox.base_url)
    body["secrets"] = {"password": sandbox.password}
    return (await client.post("/api/v1/connections", json=body)).json()["id"]


@pytest.mark.parametrize(
    ("language", "culture", "mobile", "account", "lookup", "created", "contact"),
    [
        ("ru", "ru-RU", "Мобильный телефон", "Контрагент", "Справочник: Контрагент", "Дата и время", "Контакт"),
        ("en", "en-US", "Mobile phone", "Account", "Lookup: Account", "Date and time", "Contact"),
    ],
)
async def test_contact_fields_carry_captions_in_the_readers_language(
    client, sessionmaker, sandbox, language, culture, mobile, account, lookup, created, contact
):
    sandbox.set_faults(culture=culture)
    cid = await _connection(client, sessionmaker, sandbox, language)
    headers = {"Accept-Language": language}
    got = (await client.get(f"/api/v1/connections/{cid}/entities/Contact", headers=headers)).json()
    assert got["caption"] == contact
    fields = {f["name"]: f for f in got["fields"]}
    assert fields["MobilePhone"]["caption"] == mobile
    assert fields["MobilePhone"]["type_caption"] == ("Строка" if language == "ru" else "Text")
    assert fields["AccountId"]["caption"] == account and fields["AccountId"]["type_caption"] == lookup
    assert fields["AccountId"]["lookup_caption"] == account
    assert fields["CreatedOn"]["type_caption"] == created
    listed = {
        e["name"]: e["caption"] for e in (await client.get(f"/api/v1/connections/{cid}/entities")).json()["items"]
    }
    assert listed["Contact"] == contact and listed["Account"] == account


async def test_a_custom_column_reads_as_the_instance_captions_it(client, sessionmaker, sandbox):
    sandbox.add_schema({"columns": {"Contact": {"UsrLoyalty": {"kind": "int", "caption": {"ru-RU": "Лояльность"}}}}})
    sandbox.set_faults(culture="ru-RU")
    cid = await _connection(client, sessionmaker, sandbox, "ru")
    fields = {f["name"]: f for f in (await client.get(f"/api/v1/connections/{cid}/entities/Contact")).json()["fields"]}
    assert fields["UsrLoyalty"]["caption"] == "Лояльность"
    assert fields["UsrLoyalty"]["type_caption"] == "Целое число"


async def test_the_captions_service_failing_leaves_the_dictionary(client, sessionmaker, sandbox):
    sandbox.add_schema({"columns": {"Contact": {"UsrLoyalty": {"kind": "int", "caption": {"ru-RU": "Лояльность"}}}}})
    sandbox.set_faults(culture="ru-RU", captions_failure="500")
    captions_cache._items.clear()  # a fresh process: nothing read before
    cid = await _connection(client, sessionmaker, sandbox, "ru")
    response = await client.get(f"/api/v1/connections/{cid}/entities/Contact")
    assert response.status_code == 200, response.text
    fields = {f["name"]: f for f in response.json()["fields"]}
    assert fields["MobilePhone"]["caption"] == "Мобильный телефон"  # the built-in dictionary
    assert fields["UsrLoyalty"]["caption"] == "UsrLoyalty"  # nothing knows it: the code


async def test_accept_language_decides_until_the_profile_language_is_chosen(client, sessionmaker, sandbox):
    """A profile whose language was never chosen (nor taken from a browser at login) follows the
    request's Accept-Language; once chosen, the profile wins over the header."""
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    body = bpm_body(sandbox.base_url)
    body["secrets"] = {"password": sandbox.password}
    cid = (await client.post("/api/v1/connections", json=body)).json()["id"]

    async def mobile(language: str) -> str:
        got = (await client.get(f"/api/v1/connections/{cid}/entities/Contact", headers={"Accept-Language": language}))
        return next(f["caption"] for f in got.json()["fields"] if f["name"] == "MobilePhone")

    assert await mobile("ru-RU,ru;q=0.9") == "Мобильный телефон"
    assert await mobile("en-US") == "Mobile phone"
    assert (await client.patch("/api/v1/auth/profile", json={"language": "en"})).status_code == 200
    assert await mobile("ru-RU") == "Mobile phone"
