"""$filter grammar (§3.3): literals, operators, functions, navigation paths, and the exact errors."""

from datetime import datetime, timedelta

import pytest

from .conftest import OUR_COMPANY, SUPERVISOR

PREFIX = "The query specified in the URI is not valid. "


def rows(api, entity, flt, select="Id,Name"):
    r = api.get(f"/0/odata/{entity}", params={"$filter": flt, "$select": select})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def all_contacts(api):
    return api.get("/0/odata/Contact", params={"$select": "Id,Name,Age,Email,AccountId,CreatedOn,Surname"}).json()[
        "value"]


def error(api, flt, entity="Contact"):
    return api.get(f"/0/odata/{entity}", params={"$filter": flt})


@pytest.mark.parametrize(("flt", "message"), [
    (f"Id eq '{SUPERVISOR}'", "A binary operator with incompatible types was detected. Found operand types "
                              "'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."),
    ("CreatedOn gt '2026-09-15T06:00:00Z'", "A binary operator with incompatible types was detected. Found "
                                            "operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind "
                                            "'GreaterThan'."),
    ("Age gt '18'", "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and "
                    "'Edm.String' for operator kind 'GreaterThan'."),
    ("Name ne 5", "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and "
                  "'Edm.Int32' for operator kind 'NotEqual'."),
    (f"Account/Id le '{OUR_COMPANY}'", "A binary operator with incompatible types was detected. Found operand "
                                       "types 'Edm.Guid' and 'Edm.String' for operator kind 'LessThanOrEqual'."),
])
def test_quoted_guid_date_number_is_400_type_mismatch(api, flt, message):
    r = error(api, flt)
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "", "message": PREFIX + message,
                                  "innererror": {"message": message, "type": "", "stacktrace": ""}}}


def test_unquoted_guid_and_date_literals(api):
    assert [c["Id"] for c in rows(api, "Contact", f"Id eq {SUPERVISOR}")] == [SUPERVISOR]
    assert [c["Id"] for c in rows(api, "Contact", f"Id eq {SUPERVISOR.upper()}")] == [SUPERVISOR]
    everyone = all_contacts(api)
    stamps = sorted(datetime.fromisoformat(c["CreatedOn"]) for c in everyone)
    middle = stamps[len(stamps) // 2].replace(microsecond=0)
    later = rows(api, "Contact", f"CreatedOn gt {middle.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    expected = [c["Id"] for c in everyone if datetime.fromisoformat(c["CreatedOn"]) > middle]
    assert [c["Id"] for c in later] == expected and 0 < len(expected) < len(everyone)
    shifted = (middle + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S+03:00")
    assert [c["Id"] for c in rows(api, "Contact", f"CreatedOn gt {shifted}")] == expected
    assert rows(api, "Contact", "BirthDate lt 1900-01-01") != []  # date-only literal vs empty dates


def test_doubled_quote_strings(api):
    got = rows(api, "Contact", "Surname eq 'O''Brien'", "Id,Surname")
    expected = [c["Id"] for c in all_contacts(api) if c["Surname"] == "O'Brien"]
    assert expected and [c["Id"] for c in got] == expected


@pytest.mark.parametrize(("flt", "check"), [
    ("Age eq 30", lambda c: c["Age"] == 30),
    ("Age ne 30", lambda c: c["Age"] != 30),
    ("Age gt 40", lambda c: c["Age"] > 40),
    ("Age ge 40", lambda c: c["Age"] >= 40),
    ("Age lt 40", lambda c: c["Age"] < 40),
    ("Age le 40", lambda c: c["Age"] <= 40),
    ("Age gt 30 and Age lt 40", lambda c: 30 < c["Age"] < 40),
    ("Age lt 30 or Age gt 60", lambda c: c["Age"] < 30 or c["Age"] > 60),
    ("not (Age lt 30 or Age gt 60)", lambda c: not (c["Age"] < 30 or c["Age"] > 60)),
    ("(Age gt 30 or Name eq 'Supervisor') and Age lt 50", lambda c: (c["Age"] > 30 or c["Name"] == "Supervisor")
     and c["Age"] < 50),
    ("Age ge 40.5", lambda c: c["Age"] >= 40.5),
    ("contains(Email,'.com')", lambda c: ".com" in c["Email"]),
    ("startswith(Name,'Ан')", lambda c: c["Name"].startswith("Ан")),
    ("endswith(Email,'@example.ru')", lambda c: c["Email"].endswith("@example.ru")),
    ("not contains(Email,'.ru')", lambda c: ".ru" not in c["Email"]),
    ("tolower(Name) eq 'supervisor'", lambda c: c["Name"].lower() == "supervisor"),
    ("toupper(Surname) eq 'SMITH'", lambda c: c["Surname"].upper() == "SMITH"),
    ("contains(tolower(Name),'jam')", lambda c: "jam" in c["Name"].lower()),
    ("Email eq null", lambda c: False),  # empty text is "" not null
    ("Email ne null", lambda c: True),
    ("Email eq ''", lambda c: c["Email"] == ""),
    ("Name gt 'S'", lambda c: c["Name"] > "S"),
    (f"Account/Id eq {OUR_COMPANY}", lambda c: c["AccountId"] == OUR_COMPANY),
    (f"Account/Id ne {OUR_COMPANY}", lambda c: c["AccountId"] != OUR_COMPANY),
])
def test_operators_and_functions_match_python(api, flt, check):
    everyone = all_contacts(api)
    expected = [c["Id"] for c in everyone if check(c)]
    assert [c["Id"] for c in rows(api, "Contact", flt)] == expected


def test_lookups_through_navigation_paths(api):
    accounts = {a["Id"]: a for a in api.get("/0/odata/Account?$select=Id,Name,TypeId").json()["value"]}
    name = next(a["Name"] for a in accounts.values() if a["Name"].startswith("ООО"))
    got = rows(api, "Contact", f"Account/Name eq '{name}'", "Id,AccountId")
    assert got and all(accounts[c["AccountId"]]["Name"] == name for c in got)
    customer = rows(api, "AccountType", "Name eq 'Customer'")[0]["Id"]
    deep = rows(api, "Contact", "Account/Type/Name eq 'Customer'", "Id,AccountId")
    expected = [c["Id"] for c in all_contacts(api) if accounts[c["AccountId"]]["TypeId"] == customer]
    assert [c["Id"] for c in deep] == expected and expected
    # The documented OData 4 example.
    assert rows(api, "Employee", "contains(FullJobTitle,'a') and Account/Name ne 'Our company'") == []


def test_empty_lookup_behaves_as_null_through_the_navigation_path(api):
    made = api.post("/0/odata/Contact", json={"Name": "No Account"}).json()
    assert made["AccountId"] == "00000000-0000-0000-0000-000000000000"
    assert [c["Id"] for c in rows(api, "Contact", "Account/Id eq null")] == [made["Id"]]
    assert made["Id"] not in [c["Id"] for c in rows(api, "Contact", "Account/Name ne 'x'")]


def test_flat_fk_in_filter_is_500_column_by_path(api):
    r = error(api, f"AccountId eq {OUR_COMPANY}")
    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "" and err["message"] == "An error has occurred."
    assert err["innererror"]["message"] == "Column by path AccountId not found in schema Contact"
    nested = error(api, f"Account/OwnerId eq {SUPERVISOR}")
    inner = nested.json()["error"]["innererror"]["message"]
    assert inner == "Column by path Account.OwnerId not found in schema Contact"


def test_unknown_property_is_400_naming_the_first(api):
    r = error(api, "Foo eq 1 and Bar eq 2")
    assert r.status_code == 400
    assert r.json()["error"]["innererror"]["message"] == (
        "Could not find a property named 'Foo' on type 'Terrasoft.Configuration.OData.Contact'.")
    nav = error(api, "Account/Nope eq 'x'")
    assert nav.json()["error"]["innererror"]["message"] == (
        "Could not find a property named 'Nope' on type 'Terrasoft.Configuration.OData.Account'.")


@pytest.mark.parametrize("flt", ["length(Name) eq 3", "year(CreatedOn) eq 2025", "substringof('a',Name)",
                                 "frobnicate(Name)", "indexof(Name,'a') eq 1"])
def test_unsupported_or_unknown_functions_are_400(api, flt):
    r = error(api, flt)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith(PREFIX)


@pytest.mark.parametrize(("flt", "fragment"), [
    ("Name eq", "Expression expected at position 7"),
    ("Name eq 'x", "unterminated string literal"),
    ("(Name eq 'x'", "')' or operator expected"),
    ("Name eq 'x' Age", "Syntax error at position 12"),
    ("Name", "must evaluate to a single boolean value"),
    ("contains(Age,'1')", "No function signature for the function with name 'contains'"),
    ("not Name", "A unary operator with an incompatible type"),
    ("Name eq 'x' and 5", "for operator kind 'And'"),
    ("Name eq ~", "is not valid at position 8"),
])
def test_syntax_and_type_errors_are_400(api, flt, fragment):
    r = error(api, flt)
    assert r.status_code == 400 and fragment in r.json()["error"]["message"]


@pytest.mark.parametrize("value", ["O'Brien & Sons", "100% Müller", "a+b=c", "#1 Hash", "slash/name?x=1",
                                   "Ёлкин Пётр", "tab\tand 'quotes'", "emoji 🚀", "back\\slash"])
def test_hostile_string_values_match_exactly(api, value):
    target = api.post("/0/odata/Contact", json={"Name": "Hostile", "JobTitle": value}).json()["Id"]
    api.post("/0/odata/Contact", json={"Name": "Decoy", "JobTitle": value + "x"})
    literal = "'" + value.replace("'", "''") + "'"
    got = rows(api, "Contact", f"JobTitle eq {literal}", "Id,JobTitle")
    assert got == [{"Id": target, "JobTitle": value}]
    assert target in [c["Id"] for c in rows(api, "Contact", f"contains(JobTitle,{literal})")]


def test_a_case_folded_equality_finds_rows_written_after_its_index_was_built(api):
    """`tolower(Email) eq '…'` is answered from an index on the folded value; writes keep it current."""
    flt = "tolower(Email) eq 'mixed.case@index.example'"
    assert rows(api, "Contact", flt) == []  # builds the index
    created = api.post("/0/odata/Contact", json={"Name": "Folded", "Email": "Mixed.Case@Index.example"})
    assert created.status_code == 201, created.text
    key = created.json()["Id"]
    assert [r["Id"] for r in rows(api, "Contact", flt)] == [key]
    assert rows(api, "Contact", "toupper(Email) eq 'MIXED.CASE@INDEX.EXAMPLE'")[0]["Id"] == key
    assert rows(api, "Contact", "tolower(Email) eq 'Mixed.Case@Index.example'") == []  # the literal is not folded
    assert api.patch(f"/0/odata/Contact({key})", json={"Email": "Moved@Index.example"}).status_code == 204
    assert rows(api, "Contact", flt) == []
    assert [r["Id"] for r in rows(api, "Contact", "tolower(Email) eq 'moved@index.example'")] == [key]
    assert api.delete(f"/0/odata/Contact({key})").status_code == 204
    assert rows(api, "Contact", "tolower(Email) eq 'moved@index.example'") == []
