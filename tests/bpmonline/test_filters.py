import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bpmlink.bpmonline import F, FilterError, ODataV3, ODataV4, parse_metadata
from tests.bpmonline.test_metadata import CSDL4

V4 = ODataV4()
V3 = ODataV3()
GUID = uuid.UUID("0b6e1c36-7b8a-4f6a-9d3e-1c2b3a4d5e6f")


def test_string_quote_is_doubled():
    assert F.eq("Name", "O'Brien").render(V4) == "Name eq 'O''Brien'"


def test_injection_attempt_stays_inside_the_literal():
    assert F.eq("Name", "x' or 1 eq 1 or Name eq 'y").render(V4) == "Name eq 'x'' or 1 eq 1 or Name eq ''y'"


@pytest.mark.parametrize("value", ["a&b", "a#b", "a+b", "100%", "a/b", "Ёжик 日本", "' or 1 eq 1"])
def test_hostile_strings_render_as_one_literal(value):
    text = F.eq("Name", value).render(V4)
    assert text == "Name eq '" + value.replace("'", "''") + "'"


def test_guid_is_bare_in_v4_and_prefixed_in_v3():
    assert F.eq("Id", GUID).render(V4) == f"Id eq {GUID}"
    assert F.eq("Id", GUID).render(V3) == f"Id eq guid'{GUID}'"


def test_eq_lookup_uses_the_navigation_path():
    assert F.eq_lookup("Account", str(GUID)).render(V4) == f"Account/Id eq {GUID}"
    assert F.eq_lookup("AccountId", GUID).render(V3) == f"Account/Id eq guid'{GUID}'"


def test_eq_lookup_refuses_a_non_guid():
    with pytest.raises(FilterError):
        F.eq_lookup("Account", "1) or (1 eq 1")


def test_dates_are_bare_utc_in_v4_and_datetime_literals_in_v3():
    moment = datetime(2026, 9, 15, 9, 0, tzinfo=timezone(timedelta(hours=3)))
    assert F.gt("CreatedOn", moment).render(V4) == "CreatedOn gt 2026-09-15T06:00:00Z"
    assert F.gt("CreatedOn", moment).render(V3) == "CreatedOn gt datetime'2026-09-15T06:00:00'"
    assert F.eq("BirthDate", date(1990, 12, 12)).render(V4) == "BirthDate eq 1990-12-12T00:00:00Z"


def test_numbers_booleans_and_null():
    assert F.gt("Age", 18).render(V4) == "Age gt 18"
    assert F.ge("Amount", Decimal("10.50")).render(V4) == "Amount ge 10.50"
    assert F.eq("DoNotUseEmail", False).render(V4) == "DoNotUseEmail eq false"
    assert F.is_null("Email").render(V4) == "Email eq null"
    with pytest.raises(FilterError):
        F.eq("Age", float("nan")).render(V4)


def test_functions_and_grouping():
    expr = F.and_(F.contains("Name", "a'b"), F.or_(F.startswith("Email", "x"), F.endswith("Email", "y")))
    assert expr.render(V4) == "contains(Name,'a''b') and (startswith(Email,'x') or endswith(Email,'y'))"
    assert F.contains("Name", "z").render(V3) == "substringof('z',Name)"
    assert (~F.eq("Name", "a")).render(V4) == "not (Name eq 'a')"
    assert F.in_("Name", ["a", "b"]).render(V4) == "Name eq 'a' or Name eq 'b'"


@pytest.mark.parametrize(
    "field", ["Name eq 'x' or Name", "Name)", "1Name", "A/B/C", "Name ", "", "Account/Id eq x", "Na-me"]
)
def test_bad_field_names_are_refused(field):
    with pytest.raises(FilterError):
        F.eq(field, "x")


def test_functions_take_text_only():
    with pytest.raises(FilterError):
        F.contains("Name", 5)  # type: ignore[arg-type]


def test_metadata_types_the_values_and_rewrites_flat_lookups():
    types = parse_metadata(CSDL4).types_for("Contact")
    assert F.eq("AccountId", str(GUID)).render(V4, types) == f"Account/Id eq {GUID}"
    assert F.gt("Age", "18").render(V4, types) == "Age gt 18"
    assert F.eq("Email", 5).render(V4, types) == "Email eq '5'"
    assert F.gt("CreatedOn", "2026-01-02T03:04:05Z").render(V4, types) == "CreatedOn gt 2026-01-02T03:04:05Z"
    assert F.eq("Account/Name", "Acme").render(V4, types) == "Account/Name eq 'Acme'"
    with pytest.raises(FilterError):
        F.eq("Id", "x) or (1 eq 1").render(V4, types)
    with pytest.raises(FilterError):
        F.eq("Age", "18 or 1 eq 1").render(V4, types)


def test_naive_datetime_is_taken_as_utc():
    assert F.lt("ModifiedOn", datetime(2026, 1, 1, 12, 0, 0, 500000)).render(V4) == (
        "ModifiedOn lt 2026-01-01T12:00:00.5Z"
    )
    assert F.lt("ModifiedOn", datetime(2026, 1, 1, tzinfo=UTC)).render(V4) == "ModifiedOn lt 2026-01-01T00:00:00Z"
