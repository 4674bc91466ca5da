"""Communication records as Creatio keeps them: SearchNumber maintained on write, the contact's phone
and e-mail columns kept in step with them, and the switch for an instance without SearchNumber."""

MOBILE = "d4a2dc80-30ca-df11-9b2a-001d60e938c6"


def comms_of(api, contact_id: str) -> list[dict]:
    answer = api.get("/0/odata/ContactCommunication", params={"$filter": f"Contact/Id eq {contact_id}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def test_search_number_is_the_numbers_digits_reversed_on_every_write(api):
    contact = api.post("/0/odata/Contact", json={"Name": "Comm"}).json()
    body = {"ContactId": contact["Id"], "CommunicationTypeId": MOBILE, "Number": "+7 (912) 345-67-89"}
    created = api.post("/0/odata/ContactCommunication", json={**body, "SearchNumber": "forged"})
    assert created.status_code == 201, created.text
    assert created.json()["SearchNumber"] == "98765432197"  # the platform's, not the client's
    key = created.json()["Id"]
    assert api.patch(f"/0/odata/ContactCommunication({key})", json={"Number": "8 800 100-20-30"}).status_code == 204
    assert api.get(f"/0/odata/ContactCommunication({key})").json()["SearchNumber"] == "03020010088"


def test_a_contacts_phone_columns_have_communication_twins_that_follow_them(api):
    contact = api.post("/0/odata/Contact", json={"Name": "Twin", "MobilePhone": "+7 912 000-11-22"}).json()
    [twin] = comms_of(api, contact["Id"])
    assert (twin["CommunicationTypeId"], twin["Number"], twin["SearchNumber"]) == (
        MOBILE,
        "+7 912 000-11-22",
        "22110002197",
    )
    found = api.get(
        "/0/odata/ContactCommunication",
        params={"$filter": "startswith(SearchNumber,'2211000219')", "$expand": "Contact"},
    ).json()["value"]
    assert [r["Contact"]["Id"] for r in found] == [contact["Id"]]
    api.patch(f"/0/odata/Contact({contact['Id']})", json={"MobilePhone": "8 (912) 999-88-77", "Email": "t@w.example"})
    numbers = sorted(r["Number"] for r in comms_of(api, contact["Id"]))
    assert numbers == ["8 (912) 999-88-77", "t@w.example"]
    api.patch(f"/0/odata/Contact({contact['Id']})", json={"MobilePhone": ""})
    assert [r["Number"] for r in comms_of(api, contact["Id"])] == ["t@w.example"]
    assert api.delete(f"/0/odata/Contact({contact['Id']})").status_code == 204  # its communications go with it
    assert comms_of(api, contact["Id"]) == []


def test_the_search_number_switch_takes_the_column_out_of_metadata_and_queries(api, sandbox):
    assert 'Name="SearchNumber"' in api.get("/0/odata/$metadata").text
    sandbox.set_faults(search_number=False)
    try:
        assert 'Name="SearchNumber"' not in api.get("/0/odata/$metadata").text
        refused = api.get("/0/odata/ContactCommunication", params={"$filter": "startswith(SearchNumber,'1')"})
        assert refused.status_code == 400
    finally:
        sandbox.clear_faults()
    assert 'Name="SearchNumber"' in api.get("/0/odata/$metadata").text
