import pytest

from bpmlink.catalog.model import Answers, Match, Parse
from bpmlink.intake.shape import ShapeError, apply_answers, apply_parse, matches


def test_json_fields_are_parsed_in_place_and_the_input_is_left_alone() -> None:
    item = {"rawRequest": '{"q3_name": {"first": "Ann"}}', "formID": "1"}
    shaped = apply_parse(item, Parse(json_fields=["rawRequest"]))
    assert shaped == {"rawRequest": {"q3_name": {"first": "Ann"}}, "formID": "1"}
    assert item["rawRequest"].startswith("{")


@pytest.mark.parametrize("raw", ["{no", "NaN", "[" * 40 + "]" * 40], ids=["malformed", "nan", "deep"])
def test_a_json_field_that_is_not_json_is_a_shape_error_naming_the_field(raw: str) -> None:
    with pytest.raises(ShapeError) as caught:
        apply_parse({"rawRequest": raw}, Parse(json_fields=["rawRequest"]))
    assert caught.value.field == "rawRequest"


def test_nul_characters_in_a_json_field_are_replaced() -> None:
    shaped = apply_parse({"raw": '{"a\\u0000": "b\\u0000"}'}, Parse(json_fields=["raw"]))
    assert shaped["raw"] == {"a\ufffd": "b\ufffd"}


def test_answers_by_value_path_join_lists() -> None:
    item = {
        "field_data": [
            {"name": "email", "values": ["ann@example.com"]},
            {"name": "city", "values": ["Moscow", "Kazan"]},
            {"values": ["no key"]},
            "not an object",
        ]
    }
    shaped = apply_answers(item, [Answers(path="field_data", key="name", value="values")])
    assert shaped["fields"] == {"email": "ann@example.com", "city": "Moscow, Kazan"}
    assert "fields" not in item


def test_answers_by_type_take_the_key_the_type_names_and_choice_labels() -> None:
    item = {
        "form_response": {
            "answers": [
                {"type": "email", "email": "ann@example.com", "field": {"ref": "email"}},
                {"type": "choice", "choice": {"label": "Yes"}, "field": {"ref": "agree"}},
                {"type": "choices", "choices": {"labels": ["A", "B"]}, "field": {"ref": "options"}},
                {"type": "number", "number": 5, "field": {"ref": "count"}},
            ]
        }
    }
    rule = Answers(path="form_response.answers", key="field.ref", by_type=True, into="form_response.fields")
    shaped = apply_answers(item, [rule])
    assert shaped["form_response"]["fields"] == {
        "email": "ann@example.com",
        "agree": "Yes",
        "options": "A, B",
        "count": 5,
    }
    assert "fields" not in item["form_response"]


def test_matches_every_given_part() -> None:
    item = {"test": "test", "webhook_id": "7"}
    assert matches(Match(field="test", equals="test"), method="POST", headers={}, item=item)
    assert not matches(Match(field="test", equals="other"), method="POST", headers={}, item=item)
    assert matches(Match(field="webhook_id"), method="POST", headers={}, item=item)
    assert not matches(Match(field="missing"), method="POST", headers={}, item=item)
    assert not matches(Match(method="GET", field="test"), method="POST", headers={}, item=item)
    assert matches(Match(field="header:x-event", equals="ping"), method="POST", headers={"x-event": "ping"}, item={})
    assert matches(Match(only_fields=["webhook_id"]), method="POST", headers={}, item={"webhook_id": "7"})
    assert not matches(Match(only_fields=["webhook_id"]), method="POST", headers={}, item=item)
