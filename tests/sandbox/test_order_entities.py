"""Products, opportunity products, orders and their products, activity participants: the records
bundle steps write besides contacts, leads and tasks (OData 4, lookups, $expand)."""

from .conftest import EMPTY, OUR_COMPANY, SUPERVISOR


def _first_id(api, entity: str, name: str) -> str:
    rows = api.get(f"/0/odata/{entity}?$filter=Name eq '{name}'&$select=Id").json()["value"]
    assert len(rows) == 1, rows
    return rows[0]["Id"]


def _any_id(api, entity: str) -> str:
    return api.get(f"/0/odata/{entity}?$top=1&$select=Id").json()["value"][0]["Id"]


def test_seeded_products_carry_price_currency_unit_and_expand_them(api):
    body = api.get("/0/odata/Product?$filter=Code eq 'CRM-LIC'&$expand=Currency($select=Code,Symbol),Unit").json()
    product = body["value"][0]
    assert product["Name"] == "CRM license" and product["Price"] == 1200 and product["OwnerId"] == SUPERVISOR
    assert product["Currency"] == {"Code": "USD", "Symbol": "$"} and product["Unit"]["Name"] == "License"
    assert product["CurrencyId"] == _first_id(api, "Currency", "US dollar")
    assert product["CategoryId"] == EMPTY and product["IsArchive"] is False


def test_an_opportunity_product_links_an_opportunity_and_a_product(api):
    opportunity, product = _any_id(api, "Opportunity"), _first_id(api, "Product", "Implementation hour")
    r = api.post(
        "/0/odata/OpportunityProductInterest",
        json={
            "OpportunityId": opportunity,
            "ProductId": product,
            "Quantity": 12.5,
            "Price": 45,
            "Amount": 562.5,
            "Comment": "Этап 1",
        },
    )
    assert r.status_code == 201, r.text
    row = api.get(
        f"/0/odata/OpportunityProductInterest({r.json()['Id']})?$expand=Product($select=Code),Opportunity($select=Id)"
    ).json()
    assert row["Quantity"] == 12.5 and row["Amount"] == 562.5 and row["Comment"] == "Этап 1"
    assert row["Product"] == {"Code": "IMPL-H"} and row["Opportunity"] == {"Id": opportunity}
    assert "OwnerId" not in row  # a detail record has no owner
    # Creatio has no OpportunityProduct entity: the routing 404 of an unknown set.
    assert api.get("/0/odata/OpportunityProduct").status_code == 404


def test_an_order_with_a_product_line_resolves_its_lookups(api):
    draft = _first_id(api, "OrderStatus", "1. Draft")
    ruble = _first_id(api, "Currency", "Ruble")
    order = api.post(
        "/0/odata/Order",
        json={
            "Number": "ORD-0001",
            "AccountId": OUR_COMPANY,
            "ContactId": SUPERVISOR,
            "StatusId": draft,
            "CurrencyId": ruble,
            "Amount": 2500,
            "Date": "2026-12-01T10:00:00Z",
        },
    )
    assert order.status_code == 201, order.text
    assert order.json()["OwnerId"] == SUPERVISOR  # the owner defaults to the caller like the others
    line = api.post(
        "/0/odata/OrderProduct",
        json={
            "OrderId": order.json()["Id"],
            "ProductId": _first_id(api, "Product", "Сервер Т-100"),
            "Quantity": 1,
            "Price": 2500,
            "Amount": 2500,
            "UnitId": _first_id(api, "Unit", "Piece"),
        },
    )
    assert line.status_code == 201, line.text
    got = api.get(
        f"/0/odata/OrderProduct({line.json()['Id']})?$expand=Order($expand=Status($select=Name)),"
        "Product($select=Name),Unit($select=Name)"
    ).json()
    assert got["Order"]["Number"] == "ORD-0001" and got["Order"]["Status"] == {"Name": "1. Draft"}
    assert got["Product"] == {"Name": "Сервер Т-100"} and got["Unit"] == {"Name": "Piece"}
    lines = api.get(f"/0/odata/OrderProduct?$filter=Order/Id eq {order.json()['Id']}&$select=Id").json()["value"]
    assert [x["Id"] for x in lines] == [line.json()["Id"]]


def test_an_order_product_of_a_missing_order_is_the_foreign_key_500(api):
    r = api.post("/0/odata/OrderProduct", json={"OrderId": "11111111-1111-1111-1111-111111111111", "Quantity": 1})
    assert r.status_code == 500
    assert 'violates foreign key constraint "FKOrderProductOrder"' in r.json()["error"]["innererror"]["message"]


def test_an_activity_participant_links_a_task_and_a_contact_with_a_role(api):
    task = api.post(
        "/0/odata/Activity",
        json={
            "Title": "Позвонить",
            "StartDate": "2026-12-01T10:00:00Z",
            "DueDate": "2026-12-01T11:00:00Z",
            "ContactId": SUPERVISOR,
        },
    ).json()
    role = _first_id(api, "ActivityParticipantRole", "Participant")
    r = api.post(
        "/0/odata/ActivityParticipant", json={"ActivityId": task["Id"], "ParticipantId": SUPERVISOR, "RoleId": role}
    )
    assert r.status_code == 201, r.text
    assert r.json()["InviteParticipant"] is False and r.json()["InviteResponseId"] == EMPTY
    rows = api.get(
        f"/0/odata/ActivityParticipant?$filter=Activity/Id eq {task['Id']}"
        "&$expand=Participant($select=Name),Role($select=Name)"
    ).json()["value"]
    assert len(rows) == 1
    assert rows[0]["Participant"] == {"Name": "Supervisor"} and rows[0]["Role"] == {"Name": "Participant"}
    # The task cannot go while a participant row points at it.
    assert api.delete(f"/0/odata/Activity({task['Id']})").status_code == 500


def test_metadata_lists_the_new_entity_sets_with_their_navigation(api):
    doc = api.get("/0/odata/$metadata").text
    for name in (
        "Product",
        "OpportunityProductInterest",
        "Order",
        "OrderProduct",
        "ActivityParticipant",
        "Currency",
        "Unit",
        "OrderStatus",
        "ActivityParticipantRole",
    ):
        assert f'<EntitySet Name="{name}"' in doc, name
    assert '<NavigationProperty Name="Participant" Type="Terrasoft.Configuration.OData.Contact"' in doc
