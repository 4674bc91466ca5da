"""DataService schema requests: captions in the user's culture, custom columns' captions, OAuth and failures."""

import pytest

SCHEMA = "/0/DataService/json/SyncReply/RuntimeEntitySchemaRequest"
SCHEMAS = "/0/DataService/json/SyncReply/EntitySchemaManagerRequest"


def _columns(body) -> dict:
    return {c["name"]: c for c in body["schema"]["columns"]["Items"].values()}


@pytest.mark.parametrize(
    ("culture", "entity", "mobile", "account"),
    [("ru-RU", "Контакт", "Мобильный телефон", "Контрагент"), ("en-US", "Contact", "Mobile phone", "Account")],
)
def test_a_schema_answers_captions_in_the_users_culture(api, sandbox, culture, entity, mobile, account):
    sandbox.set_faults(culture=culture)
    r = api.post(SCHEMA, json={"Name": "Contact"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["schema"]["caption"] == {culture: entity}
    cols = _columns(body)
    assert cols["MobilePhone"]["caption"] == {culture: mobile} and cols["MobilePhone"]["dataValueType"] == 1
    assert cols["Account"]["caption"] == {culture: account}
    assert cols["Account"]["referenceSchemaName"] == "Account" and cols["Account"]["dataValueType"] == 10


def test_the_schema_list_names_every_entity_with_a_caption(api, sandbox):
    sandbox.set_faults(culture="ru-RU")
    items = {i["name"]: i["caption"] for i in api.post(SCHEMAS, json={}).json()["collection"]}
    assert items["Contact"] == "Контакт" and items["Account"] == "Контрагент" and items["Lead"] == "Лид"


def test_a_custom_column_gets_the_caption_it_was_added_with(api, sandbox):
    sandbox.add_schema(
        {
            "columns": {
                "Contact": {
                    "UsrLoyalty": {"kind": "int", "caption": {"ru-RU": "Уровень лояльности", "en-US": "Loyalty level"}},
                    "UsrPlainScore": "int",
                }
            },
            "entities": {"UsrProject": {"caption": "Проект", "columns": {"UsrCode": "text"}}},
        }
    )
    sandbox.set_faults(culture="ru-RU")
    cols = _columns(api.post(SCHEMA, json={"Name": "Contact"}).json())
    assert cols["UsrLoyalty"]["caption"] == {"ru-RU": "Уровень лояльности"}
    assert cols["UsrPlainScore"]["caption"] == {"ru-RU": "Plain score"}  # no caption given: its name in words
    sandbox.set_faults(culture="en-US")
    assert _columns(api.post(SCHEMA, json={"Name": "Contact"}).json())["UsrLoyalty"]["caption"] == {
        "en-US": "Loyalty level"
    }
    project = api.post(SCHEMA, json={"Name": "UsrProject"}).json()["schema"]
    assert project["caption"] == {"en-US": "Проект"}


def test_unknown_schema_failure_and_auth(api, anon, sandbox):
    r = api.post(SCHEMA, json={"Name": "NoSuch"})
    assert r.status_code == 500 and r.json()["success"] is False
    assert 'Item entity schema "NoSuch" not found' in r.json()["responseStatus"]["Message"]
    assert anon.post(SCHEMA, json={"Name": "Contact"}).status_code == 401
    sandbox.set_faults(captions_failure="500")
    assert api.post(SCHEMA, json={"Name": "Contact"}).status_code == 500


def test_an_oauth_token_is_refused_when_the_switch_says_so(sandbox):
    with sandbox.client() as c:
        token = c.post(
            "/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert c.post(SCHEMA, json={"Name": "Contact"}, headers=headers).status_code == 200
        sandbox.set_faults(dataservice_bearer="403")
        assert c.post(SCHEMA, json={"Name": "Contact"}, headers=headers).status_code == 403
