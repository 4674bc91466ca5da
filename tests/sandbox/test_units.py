"""Pure units of the sandbox: filter dialects, schema rules, values, names, settings, seed determinism."""

import json
import time
from datetime import UTC, datetime

import pytest
from bpmlink_sandbox.faults import Faults
from bpmlink_sandbox.filter_parser import PathNotFound, QueryError, compile_filter
from bpmlink_sandbox.records import sparse, split_name
from bpmlink_sandbox.schema import Schema, SchemaError
from bpmlink_sandbox.seed import build_seed
from bpmlink_sandbox.settings import SandboxSettings
from bpmlink_sandbox.values import BadValue, coerce, fmt_dt, fmt_dt7, parse_dt

SCHEMA = Schema()
CONTACT = SCHEMA.entities["Contact"]
ROWS = {"a": {"Id": "a", "Name": "Ann", "Age": 30, "AccountId": "acc", "CreatedOn": "2025-01-01T00:00:00Z"},
        "b": {"Id": "b", "Name": "Bob", "Age": 50, "AccountId": "00000000-0000-0000-0000-000000000000",
              "CreatedOn": "2025-06-01T12:00:00.5Z"}}
ACCOUNTS = {"acc": {"Id": "acc", "Name": "Acme"}}


def fetch(entity, key):
    return ACCOUNTS.get(key) if entity == "Account" else None


def match(text, version=4):
    f = compile_filter(text, SCHEMA, CONTACT, version, fetch)
    return [k for k, r in ROWS.items() if f.predicate(r)]


def test_v4_filter_semantics():
    assert match("Age gt 40") == ["b"]
    with pytest.raises(QueryError, match="unary operator"):  # `not` binds tighter: (not Age) is a type error
        match("not Age gt 40")
    assert match("not (Age gt 40)") == ["a"]
    assert match("Account/Name eq 'Acme'") == ["a"]
    assert match("Account/Name ne 'Acme'") == []  # NULL through an empty lookup never compares
    assert match("Account/Id eq null") == ["b"]
    assert match("CreatedOn ge 2025-06-01T12:00:00.5Z") == ["b"]
    assert match("Age eq 30 or Age eq 2147483648") == ["a"]  # Int64 literal is comparable with Int32


def test_v3_dialect_literals_and_messages():
    assert match("CreatedOn gt datetime'2025-03-01T00:00'", 3) == ["b"]
    assert match("substringof('nn', Name)", 3) == ["a"]
    with pytest.raises(QueryError, match="Syntax error"):
        match("Id eq 410006e1-ca4e-4502-a9ec-e54d922d2c00", 3)
    with pytest.raises(QueryError, match="Operator 'eq' incompatible with operand types 'System.Guid' and "
                                         "'System.String' at position 3"):
        match("Id eq 'x'", 3)
    with pytest.raises(QueryError, match="No property 'Nope' exists in type 'Terrasoft.Configuration.Contact'"):
        match("Nope eq 1", 3)


def test_flat_fk_is_reported_only_after_binding_succeeds():
    with pytest.raises(PathNotFound, match="Column by path AccountId not found in schema Contact"):
        match("AccountId eq 410006e1-ca4e-4502-a9ec-e54d922d2c00")
    with pytest.raises(QueryError, match="incompatible types"):  # the 400 wins over the 500
        match("AccountId eq 'x'")


def test_equality_filters_produce_index_hints():
    f = compile_filter("Email eq 'a@b.c' and Account/Id eq 410006e1-ca4e-4502-a9ec-e54d922d2c00 and Age gt 1",
                       SCHEMA, CONTACT, 4, fetch)
    assert f.hints == [("Email", "a@b.c"), ("AccountId", "410006e1-ca4e-4502-a9ec-e54d922d2c00")]
    assert compile_filter("Email eq 'x' or Age eq 1", SCHEMA, CONTACT, 4, fetch).hints == []


def test_schema_extension_rules():
    s = Schema()
    s.extend({"entities": {"UsrA": {"UsrRef": "lookup:Contact"}}, "columns": {"Lead": {"UsrScore": "int"}}})
    assert s.entities["UsrA"].columns["UsrRefId"].edm == "Edm.Guid" and "UsrRef" in s.entities["UsrA"].navs
    assert "UsrScore" in s.entities["Lead"].columns
    for bad in ({"entities": {"UsrB": {"UsrX": "lookup:Nowhere"}}}, {"columns": {"Lead": {"UsrScore": "int"}}},
                {"columns": {"Nope": {"UsrY": "int"}}}, {"entities": {"UsrC": {"UsrZ": "blob"}}}):
        with pytest.raises((SchemaError, ValueError)):
            s.extend(bad)
    assert [(e.name, c.name) for e, c in s.referencing("UsrA")] == []
    assert ("Contact", "Account") in [(e.name, c.name) for e, c in s.referencing("Account")]


def test_every_lookup_targets_an_entity_and_reference_columns_exist():
    for ent in SCHEMA.entities.values():
        for nav in ent.navs.values():
            assert nav.target in SCHEMA.entities, (ent.name, nav.name)
    assert "BusinesPhone" in SCHEMA.entities["Lead"].columns
    assert list(CONTACT.columns)[:8] == ["Id", "Name", "OwnerId", "CreatedOn", "CreatedById", "ModifiedOn",
                                         "ModifiedById", "ProcessListeners"]


def test_value_formats():
    dt = datetime(2022, 8, 28, 17, 21, 1, 139505, tzinfo=UTC)
    assert fmt_dt(dt) == "2022-08-28T17:21:01.139505Z"
    assert fmt_dt(dt.replace(microsecond=683000)) == "2022-08-28T17:21:01.683Z"
    assert fmt_dt(dt.replace(microsecond=0)) == "2022-08-28T17:21:01Z"
    assert fmt_dt7(dt, 8) == "2022-08-28T17:21:01.1395058Z"
    assert parse_dt("2022-08-28T17:21:01.1395058Z") == dt
    assert parse_dt("/Date(0)/") == datetime(1970, 1, 1, tzinfo=UTC)
    assert coerce(CONTACT.columns["BirthDate"], "1990-05-06T15:00:00+03:00") == "1990-05-06T00:00:00Z"
    with pytest.raises(BadValue, match="Edm.Guid"):
        coerce(CONTACT.columns["AccountId"], "nope")


def test_name_split_and_sparse_storage():
    assert split_name("API Test") == ("API", "Test", "")
    assert split_name("  ") == ("", "", "")
    row = {p: c.empty() for p, c in CONTACT.columns.items() if c.kind != "stream"}
    row.update({"Id": "x", "Name": "N", "DoNotUseEmail": False, "Age": 0})
    assert sparse(CONTACT, row) == {"Id": "x", "Name": "N"}


def test_faults_validation_and_outage():
    f = Faults()
    f.update({"error_rate": 0.25, "expiry_mode": "302", "outage_seconds": 0.05})
    assert f.error_rate == 0.25 and f.in_outage()
    time.sleep(0.06)
    assert not f.in_outage()
    with pytest.raises(ValueError, match="unknown"):
        f.update({"bogus": 1})
    with pytest.raises(ValueError, match="boolean"):
        f.update({"write_then_fail": "yes"})
    f.update({"error_rate": 0, "fail_next": 1, "fail_next_kind": "429"})
    assert f.pick_failure(True) == "429" and f.pick_failure(True) is None


def test_settings_from_env(monkeypatch, tmp_path):
    path = tmp_path / "custom.json"
    path.write_text(json.dumps({"columns": {"Contact": {"UsrTier": "text"}}}))
    monkeypatch.setenv("SANDBOX_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("SANDBOX_PORT", "9100")
    monkeypatch.setenv("SANDBOX_SESSION_TIMEOUT", "5")
    monkeypatch.setenv("SANDBOX_CUSTOM_SCHEMA", str(path))
    s = SandboxSettings.from_env()
    assert s.database_url == "postgresql://u@h/db" and s.port == 9100 and s.session_timeout_seconds == 5
    assert s.custom_schema == {"columns": {"Contact": {"UsrTier": "text"}}}
    assert s.host == "127.0.0.1" and s.username == "Supervisor"


def test_seed_is_deterministic_and_sized():
    a, b = build_seed.__wrapped__(1), build_seed.__wrapped__(1)
    assert a == b
    people = a["Contact"]
    assert 150 <= len(people) and len(a["Account"]) >= 40 and len(a["Lead"]) >= 50
    assert people[0]["Id"] == "410006e1-ca4e-4502-a9ec-e54d922d2c00"
    assert a["Account"][0]["Id"] == "e308b781-3c5b-4ecb-89ef-5c1ed4da488e"


def test_collection_reads_stop_at_twenty_thousand_rows():
    from bpmlink_sandbox.query import MAX_ROWS, Query, run
    from bpmlink_sandbox.store import Store

    store = Store("postgresql://unused")
    city = store.schema.entities["City"]
    store.rows["City"] = {f"id{i}": {"Id": f"id{i}", "Name": f"C{i}"} for i in range(MAX_ROWS + 50)}
    rows, total = run(Query(), city, store)
    assert MAX_ROWS == 20_000 and len(rows) == 20_000 and total == 20_050
    rows, _ = run(Query(top=30_000, skip=10), city, store)
    assert len(rows) == 20_000 and rows[0]["Id"] == "id10"
