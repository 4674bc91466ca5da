from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from bpmlink.mapping.conversions import Conversion, ConversionContext, normalize_step, run_conversions
from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.values import normalize_phone, parse_boolean, parse_datetime, parse_number

_STEPS = TypeAdapter(list[Conversion])


def convert(value, *steps, item=None, region=None):
    parsed = _STEPS.validate_python([normalize_step(s) for s in steps])
    return run_conversions(value, parsed, ConversionContext(item=item, default_phone_region=region))


# ---- text


def test_trim():
    assert convert("  Иван Петров \n", "trim") == "Иван Петров"


def test_lower_cyrillic():
    assert convert("ИВАН@Пример.РФ", "lower") == "иван@пример.рф"


def test_upper_cyrillic():
    assert convert("ёлка", "upper") == "ЁЛКА"


def test_trim_lower_chain_on_email():
    assert convert("  John.O'Brien@Example.COM ", "trim", "lower") == "john.o'brien@example.com"


def test_apostrophe_name_passes_unchanged():
    assert convert("O'Brien", "trim") == "O'Brien"


def test_none_passes_through_text_steps():
    assert convert(None, "trim", "lower", "upper") is None


def test_aliases_are_accepted():
    assert convert(" A ", "strip", "lowercase") == "a"


def test_unknown_conversion_is_rejected():
    with pytest.raises(ValidationError):
        _STEPS.validate_python([normalize_step("shout")])


# ---- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1\u00a0234\u00a0567", "1234567"),
        ("1'234.5", "1234.5"),
        ("1.234.567", "1234567"),
        ("1,5", "1.5"),
        ("-12", "-12"),
        ("\u22123,5", "-3.5"),
        ("1 000 ₽", "1000"),
        ("$99.90", "99.90"),
        ("12 руб.", "12"),
        (".5", "0.5"),
    ],
)
def test_to_number_accepts_common_writings(text, expected):
    assert convert(text, "number") == Decimal(expected)


def test_to_number_with_explicit_decimal_comma():
    assert convert("1.234", {"name": "number", "decimal": ","}) == Decimal("1234")


def test_to_number_empty_is_none():
    assert convert("  ", "number") is None


@pytest.mark.parametrize("text", ["abc", "12abc", "1-2", "--1", "1,2,3.4.5"])
def test_to_number_rejects_text(text):
    with pytest.raises(ConversionError, match="is not a number"):
        convert(text, "number")


def test_to_number_rejects_absurd_exponents():
    with pytest.raises(ConversionError, match="out of range"):
        parse_number("1e999999999")


def test_to_number_rejects_boolean():
    with pytest.raises(ConversionError, match="yes/no"):
        parse_number(True)


def test_to_number_of_numbers():
    assert parse_number(3) == 3
    assert parse_number(0.1) == Decimal("0.1")


# ---- booleans


@pytest.mark.parametrize("text", ["да", "ДА", "Yes", "y", "1", "true", "TRUE", "on", "истина", 1, True])
def test_to_boolean_true(text):
    assert convert(text, "boolean") is True


@pytest.mark.parametrize("text", ["нет", "Нет", "no", "N", "0", "false", "off", "ложь", 0, False])
def test_to_boolean_false(text):
    assert convert(text, "boolean") is False


def test_to_boolean_rejects_unknown_words():
    with pytest.raises(ConversionError, match="not a yes/no value"):
        parse_boolean("может быть")


# ---- dates


def test_date_with_format_and_timezone_to_utc():
    value = convert(
        "27.11.2026 10:30", {"name": "date", "format": "%d.%m.%Y %H:%M", "timezone": "Europe/Moscow"}
    )
    assert value.astimezone(UTC) == datetime(2026, 11, 27, 7, 30, tzinfo=UTC)


def test_date_without_time_stays_a_calendar_date():
    assert convert("27.11.2026", {"name": "date", "format": "%d.%m.%Y", "timezone": "Europe/Moscow"}) == date(
        2026, 11, 27
    )


def test_date_with_several_formats_tries_each():
    step = {"name": "date", "format": ["%d.%m.%Y", "%Y/%m/%d"]}
    assert convert("2026/11/27", step) == date(2026, 11, 27)


def test_date_iso_input_without_format():
    assert parse_datetime("2026-11-27T10:00:00+03:00").astimezone(UTC) == datetime(2026, 11, 27, 7, tzinfo=UTC)
    assert parse_datetime("2026-11-27T10:00:00Z") == datetime(2026, 11, 27, 10, tzinfo=UTC)


def test_date_naive_iso_input_uses_the_timezone():
    value = parse_datetime("2026-11-27T10:00:00", timezone="Asia/Yekaterinburg")
    assert value.astimezone(UTC) == datetime(2026, 11, 27, 5, tzinfo=UTC)


def test_date_unix_timestamp_seconds_and_milliseconds():
    expected = datetime(2026, 11, 27, 19, 45, tzinfo=UTC)
    seconds = int(expected.timestamp())
    assert parse_datetime(seconds) == expected
    assert parse_datetime(str(seconds * 1000)) == expected


def test_date_russian_dotted_form_without_format():
    assert parse_datetime("27.11.2026") == date(2026, 11, 27)


def test_date_rfc2822_without_format():
    assert parse_datetime("Fri, 27 Nov 2026 19:45:00 +0000") == datetime(2026, 11, 27, 19, 45, tzinfo=UTC)


def test_bad_date_for_format_names_the_format():
    with pytest.raises(ConversionError, match=r"'31\.02\.2026' is not a date in the format %d\.%m\.%Y"):
        convert("31.02.2026", {"name": "date", "format": "%d.%m.%Y"})


def test_garbage_date_without_format():
    with pytest.raises(ConversionError, match="is not a date"):
        parse_datetime("вчера вечером")


def test_date_with_unknown_timezone_is_rejected_at_validation():
    with pytest.raises(ValidationError, match="unknown time zone"):
        _STEPS.validate_python([{"name": "date", "timezone": "Mars/Olympus"}])


# ---- phones


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 123 45 67", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_e164_with_region(raw, expected):
    assert convert(raw, {"name": "phone_e164", "region": "RU"}) == expected


def test_phone_e164_uses_default_region_setting():
    assert convert("8 916 123-45-67", "phone_e164", region="RU") == "+79161234567"


def test_phone_without_country_code_and_no_region():
    with pytest.raises(ConversionError, match="no country code"):
        convert("8 916 123-45-67", "phone_e164")


@pytest.mark.parametrize("raw", ["12", "not a phone", "+7 000 000 00 00"])
def test_bad_phone_is_an_error(raw):
    with pytest.raises(ConversionError, match="phone"):
        normalize_phone(raw, "RU")


def test_phone_region_is_validated():
    with pytest.raises(ValidationError, match="unknown phone region"):
        _STEPS.validate_python([{"name": "phone_e164", "region": "XX"}])


# ---- default, first non-empty, split/join, value map, truncate


@pytest.mark.parametrize("empty", [None, "", "   ", []])
def test_default_when_empty(empty):
    assert convert(empty, {"name": "default", "value": "n/a"}) == "n/a"


def test_default_keeps_a_value():
    assert convert("x", {"name": "default", "value": "n/a"}) == "x"


def test_default_keeps_zero_and_false():
    assert convert(0, {"name": "default", "value": 5}) == 0
    assert convert(False, {"name": "default", "value": True}) is False


def test_first_non_empty_takes_the_next_source():
    item = {"phone": "", "mobile": None, "work": {"phone": "+7 916 123 45 67"}}
    assert convert("", {"name": "first_non_empty", "sources": ["mobile", "work.phone"]}, item=item) == (
        "+7 916 123 45 67"
    )


def test_first_non_empty_keeps_the_value():
    assert convert("a", {"name": "first_non_empty", "sources": ["b"]}, item={"b": "b"}) == "a"


def test_split_then_trim_then_join():
    assert convert(" a, b ,,c ", {"name": "split", "sep": ","}, {"name": "join", "sep": "; "}) == "a; b; c"


def test_split_then_phone_each_element():
    value = convert("8 916 123 45 67, +7 925 000 11 22", "split", "phone_e164", region="RU")
    assert value == ["+79161234567", "+79250001122"]


def test_join_skips_empty_elements():
    assert convert(["Иван", None, "", "Петров"], "join") == "Иван Петров"


def test_value_map_maps_ignoring_case_and_spaces():
    step = {"name": "value_map", "map": {"site": "6c1b3a1e-0000-0000-0000-000000000001", "Звонок": "call-id"}}
    assert convert(" Site ", step) == "6c1b3a1e-0000-0000-0000-000000000001"
    assert convert("звонок", step) == "call-id"


def test_value_map_unknown_value_without_default_is_an_error():
    with pytest.raises(ConversionError, match="'email' is not in the value map"):
        convert("email", {"name": "value_map", "map": {"site": "x"}})


def test_value_map_unknown_value_takes_null_default():
    assert convert("email", {"name": "value_map", "map": {"site": "x"}, "default": None}) is None


def test_value_map_dump_keeps_unset_default_unset():
    parsed = _STEPS.validate_python([{"name": "value_map", "map": {"a": "b"}}])
    again = _STEPS.validate_python(_STEPS.dump_python(parsed))
    with pytest.raises(ConversionError):
        run_conversions("zzz", again, ConversionContext())


def test_truncate():
    assert convert("абвгд", {"name": "truncate", "length": 3}) == "абв"


def test_failing_step_is_named_in_the_message():
    with pytest.raises(ConversionError, match="^number: 'abc' is not a number"):
        convert("abc", "trim", "number")
