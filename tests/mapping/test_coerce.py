from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from bpmlink.mapping.coerce import coerce_value, to_json_value
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.types import TargetField


def field(kind, **kwargs):
    return TargetField(name=kwargs.pop("name", "Field"), type=kind, **kwargs)


STRING = field("Edm.String", name="Name", max_length=10)
GUID = field("Edm.Guid", name="AccountId", lookup_entity="Account")


def test_string_passes_and_cyrillic_counts_characters():
    assert coerce_value("Иван Иванов", field("Edm.String", max_length=11)) == "Иван Иванов"


def test_string_too_long_is_an_error_naming_the_field():
    with pytest.raises(MappingError) as info:
        coerce_value("x" * 11, STRING)
    assert info.value.field == "Name"
    assert "11 characters long" in info.value.message and "at most 10" in info.value.message


def test_string_unlimited_when_max_length_is_zero():
    assert coerce_value("x" * 500, field("Edm.String", max_length=0)) == "x" * 500


def test_string_from_other_values():
    text = field("Edm.String")
    assert coerce_value(Decimal("1234.50"), text) == "1234.5"
    assert coerce_value(True, text) == "true"
    assert coerce_value(datetime(2026, 11, 27, 10, tzinfo=UTC), text) == "2026-11-27T10:00:00Z"
    assert coerce_value(["a", "b"], text) == "a, b"
    assert coerce_value({"k": "в"}, text) == '{"k": "в"}'


@pytest.mark.parametrize("kind", ["Edm.Int32", "Edm.Int64"])
def test_integers(kind):
    assert coerce_value("1 234", field(kind)) == 1234
    assert coerce_value(Decimal("7.0"), field(kind)) == 7


def test_integer_with_fraction_is_an_error():
    with pytest.raises(MappingError, match="fractional part"):
        coerce_value("1,5", field("Edm.Int32"))


def test_int32_out_of_range():
    with pytest.raises(MappingError, match="too large"):
        coerce_value(2**31, field("Edm.Int32"))
    assert coerce_value(2**31, field("Edm.Int64")) == 2**31


@pytest.mark.parametrize("kind", ["Edm.Decimal", "Edm.Double"])
def test_decimals_are_json_numbers(kind):
    assert coerce_value("1 234,50", field(kind)) == 1234.5
    assert isinstance(coerce_value("1 234,50", field(kind)), float)
    assert coerce_value("100", field(kind)) == 100
    assert isinstance(coerce_value("100", field(kind)), int)


def test_decimal_from_text_is_an_error_naming_the_field():
    with pytest.raises(MappingError) as info:
        coerce_value("дорого", field("Edm.Decimal", name="Amount"))
    assert info.value.field == "Amount"
    assert "is not a number" in info.value.message


def test_boolean():
    assert coerce_value("да", field("Edm.Boolean")) is True
    assert coerce_value(0, field("Edm.Boolean")) is False
    with pytest.raises(MappingError, match="yes/no"):
        coerce_value("maybe", field("Edm.Boolean"))


def test_guid_is_lower_case_with_hyphens():
    assert coerce_value("{6C1B3A1E-AAAA-4BBB-8CCC-000000000001}", GUID) == "6c1b3a1e-aaaa-4bbb-8ccc-000000000001"
    assert coerce_value(UUID(int=1), GUID) == "00000000-0000-0000-0000-000000000001"


def test_guid_from_a_name_hints_at_lookup():
    with pytest.raises(MappingError, match="use a lookup rule"):
        coerce_value("Acme Ltd", GUID)


def test_datetimeoffset_from_aware_datetime_is_utc_z():
    moscow = timezone(timedelta(hours=3))
    value = datetime(2026, 11, 27, 10, 30, 15, 123456, tzinfo=moscow)
    assert coerce_value(value, field("Edm.DateTimeOffset")) == "2026-11-27T07:30:15Z"


def test_datetimeoffset_from_date_is_midnight_utc():
    assert coerce_value(date(2026, 11, 27), field("Edm.DateTimeOffset")) == "2026-11-27T00:00:00Z"


def test_datetimeoffset_from_iso_text_and_timestamp():
    assert coerce_value("2026-11-27T10:00:00+03:00", field("Edm.DateTimeOffset")) == "2026-11-27T07:00:00Z"
    assert coerce_value(0, field("Edm.DateTimeOffset")) == "1970-01-01T00:00:00Z"


def test_datetimeoffset_bad_text_is_an_error():
    with pytest.raises(MappingError, match="is not a date"):
        coerce_value("soon", field("Edm.DateTimeOffset", name="DueDate"))


def test_edm_date_keeps_the_local_calendar_day():
    moscow = timezone(timedelta(hours=3))
    assert coerce_value(datetime(2026, 11, 27, 1, 0, tzinfo=moscow), field("Edm.Date")) == "2026-11-27"
    assert coerce_value("27.11.2026", field("Edm.Date")) == "2026-11-27"


def test_none_stays_none_for_every_type():
    for kind in ["Edm.String", "Edm.Int32", "Edm.Guid", "Edm.DateTimeOffset", "Edm.Boolean"]:
        assert coerce_value(None, field(kind)) is None


def test_unknown_type_passes_json_values():
    assert coerce_value("x", field("Edm.Binary")) == "x"


def test_to_json_value_without_a_field():
    assert to_json_value([Decimal("1.5"), date(2026, 1, 2)]) == [1.5, "2026-01-02"]


def test_target_field_from_metadata_column():
    @dataclass
    class Column:
        name: str = "Email"
        type: str = "Edm.String"
        nullable: bool = False
        max_length: int | None = 250
        lookup_entity: str | None = None

    assert TargetField.from_metadata(Column()) == TargetField("Email", "Edm.String", True, 250, None)
