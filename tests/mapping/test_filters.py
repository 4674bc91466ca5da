import pytest
from pydantic import ValidationError

from bpmlink.mapping import filters
from bpmlink.mapping.budget import MAX_CONDITIONS, MAX_LIST_ELEMENTS, Budget, LimitExceeded
from bpmlink.mapping.filters import Condition, FilterError, FilterGroup, check_filter, evaluate, explain

ITEM = {
    "status": "New",
    "email": "Ivan@Example.com",
    "name": "O'Brien",
    "city": "Москва",
    "amount": "1 234,50",
    "created": "2026-11-27T10:00:00Z",
    "tags": ["vip", "b2b"],
    "empty": "  ",
    "nested": {"flag": True},
}


def cond(field, op, value=None, **kwargs):
    return FilterGroup(conditions=[Condition(field=field, op=op, value=value, **kwargs)])


def test_equals_ignores_case_by_default():
    assert evaluate(cond("status", "equals", "new"), ITEM)


def test_equals_case_sensitive_option():
    assert not evaluate(cond("status", "equals", "new", case_sensitive=True), ITEM)


def test_equals_numbers_numerically():
    assert evaluate(cond("amount", "equals", "1234.5"), ITEM)


def test_equals_boolean_words():
    assert evaluate(cond("nested.flag", "equals", "да"), ITEM)


def test_not_equals():
    assert evaluate(cond("status", "not_equals", "closed"), ITEM)
    assert not evaluate(cond("status", "not_equals", "NEW"), ITEM)


def test_contains_cyrillic_ignoring_case():
    assert evaluate(cond("city", "contains", "МОСК"), ITEM)


def test_contains_apostrophe():
    assert evaluate(cond("name", "contains", "o'b"), ITEM)


def test_starts_with():
    assert evaluate(cond("email", "starts_with", "ivan@"), ITEM)
    assert not evaluate(cond("email", "starts_with", "petr"), ITEM)


def test_list_value_holds_when_any_element_holds():
    assert evaluate(cond("tags", "equals", "VIP"), ITEM)
    assert not evaluate(cond("tags", "not_equals", "vip"), ITEM)


def test_is_empty_and_not_empty():
    assert evaluate(cond("empty", "is_empty"), ITEM)
    assert evaluate(cond("missing", "is_empty"), ITEM)
    assert evaluate(cond("email", "not_empty"), ITEM)
    assert not evaluate(cond("missing", "not_empty"), ITEM)


def test_matches_regex():
    assert evaluate(cond("email", "matches", r"@example\.com$"), ITEM)
    assert not evaluate(cond("email", "matches", r"@example\.com$", case_sensitive=True), ITEM)


def test_invalid_regex_is_refused_at_save():
    [(field, message)] = check_filter(cond("email", "matches", "(unclosed"))
    assert field == "filter.conditions[0].value" and "regular expression '(unclosed'" in message


def test_catastrophic_patterns_run_to_their_answer():
    # Backtracking engines take exponential time on these (the `regex` package gave up with a
    # timeout, or ran on between its checks); RE2 is linear in the text and answers.
    item = {"text": "a" * 50_000 + "!", "tags": ["a" * 30 + "!"] * 30}
    assert not evaluate(cond("text", "matches", r"^(a+)+$"), item)
    assert not evaluate(cond("tags", "matches", r"(a|aa)+$"), item)
    assert evaluate(cond("tags", "matches", r"(a|aa)+!$"), item)


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(?=a)b", "(?="),
        (r"(?<!a)b", "(?<!"),
        (r"(a)\1", "\\1"),
        (r"a++", "++"),
        (r"(?>a)", "(?>"),
        ("a{2000}", "{2000}"),
    ],
)
def test_patterns_without_a_linear_algorithm_are_refused_at_save(pattern, construct):
    nested = FilterGroup(conditions=[Condition(field="status", op="not_empty"), cond("email", "matches", pattern)])
    [(field, message)] = check_filter(nested)
    assert field == "filter.conditions[1].conditions[0].value"
    assert "is not supported" in message and construct in message and "linear time" in message


def test_a_pattern_refused_by_re2_saved_before_fails_only_its_evaluation():
    saved = cond("email", "matches", r"(?=x)")  # still loads: a stored bundle must not break its batch
    with pytest.raises(FilterError) as info:
        evaluate(saved, ITEM)
    assert info.value.field == "email" and "is not supported" in info.value.message


def test_only_the_first_list_elements_are_examined(monkeypatch):
    examined = []
    real_test = filters._test
    monkeypatch.setattr(filters, "_test", lambda op, value, c: examined.append(value) or real_test(op, value, c))
    tags = [f"t{i}" for i in range(MAX_LIST_ELEMENTS + 50)]
    assert not evaluate(cond("tags", "equals", tags[-1]), {"tags": tags})
    assert examined == tags[:MAX_LIST_ELEMENTS]


def test_a_filter_over_the_condition_cap_is_refused_at_run():
    conditions = [Condition(field="status", op="not_empty") for _ in range(MAX_CONDITIONS + 1)]
    group = FilterGroup(conditions=[FilterGroup(conditions=conditions)])
    assert group.size() == MAX_CONDITIONS + 1
    assert check_filter(group) == [("filter", f"{MAX_CONDITIONS + 1} conditions is more than the 100 allowed")]
    with pytest.raises(LimitExceeded) as info:
        explain(group, ITEM)
    assert info.value.code == "mapping.too_many_conditions"
    assert info.value.params == {"count": MAX_CONDITIONS + 1, "max": MAX_CONDITIONS}


def test_a_spent_budget_stops_the_filter_at_the_condition_at_work():
    with pytest.raises(LimitExceeded) as info:
        explain(cond("email", "not_empty"), ITEM, budget=Budget(seconds=-1))
    assert info.value.code == "mapping.budget_exceeded" and info.value.field == "email"


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [("gt", 1000, True), ("ge", "1234.5", True), ("lt", "1 000", False), ("le", 1234.5, True), ("gt", 2000, False)],
)
def test_number_comparisons(op, value, expected):
    assert evaluate(cond("amount", op, value), ITEM) is expected


def test_number_comparison_on_text_fails_with_a_reason():
    result = explain(cond("name", "gt", 5), ITEM)
    assert not result.passed and "'O'Brien' is not a number" in result.reason


def test_number_comparison_needs_a_number_value():
    with pytest.raises(ValidationError, match="is not a number"):
        Condition(field="amount", op="gt", value="lots")


def test_date_comparisons():
    assert evaluate(cond("created", "after", "27.11.2026"), ITEM)
    assert evaluate(cond("created", "before", "2026-11-27T12:00:00+01:00"), ITEM)
    assert not evaluate(cond("created", "before", "2026-01-01"), ITEM)


def test_date_comparison_on_non_date_fails():
    result = explain(cond("name", "after", "2020-01-01"), ITEM)
    assert not result.passed and "is not a date" in result.reason


def test_value_is_required_except_for_emptiness():
    with pytest.raises(ValidationError, match="needs a value"):
        Condition(field="status", op="equals")


def test_and_group_reports_the_failing_condition():
    group = FilterGroup.model_validate(
        {
            "join": "and",
            "conditions": [
                {"field": "status", "op": "equals", "value": "new"},
                {"field": "city", "op": "equals", "value": "Казань"},
            ],
        }
    )
    result = explain(group, ITEM)
    assert not result.passed
    assert result.reason == "city equals 'Казань' did not hold: the value is 'Москва'"


def test_or_group_passes_when_one_holds():
    group = FilterGroup.model_validate(
        {
            "join": "or",
            "conditions": [
                {"field": "status", "op": "equals", "value": "closed"},
                {"field": "tags", "op": "contains", "value": "b2b"},
            ],
        }
    )
    assert evaluate(group, ITEM)


def test_or_group_failure_lists_every_alternative():
    group = FilterGroup.model_validate(
        {
            "join": "or",
            "conditions": [
                {"field": "status", "op": "equals", "value": "closed"},
                {"field": "missing", "op": "not_empty"},
            ],
        }
    )
    result = explain(group, ITEM)
    assert result.reason.startswith("none of these held: status equals 'closed'")
    assert "missing not empty did not hold: the value is empty" in result.reason


def test_nested_groups():
    group = FilterGroup.model_validate(
        {
            "join": "and",
            "conditions": [
                {"field": "status", "op": "equals", "value": "new"},
                {
                    "join": "or",
                    "conditions": [
                        {"field": "email", "op": "is_empty"},
                        {"join": "and", "conditions": [{"field": "city", "op": "starts_with", "value": "мос"}]},
                    ],
                },
            ],
        }
    )
    assert evaluate(group, ITEM)
    assert not evaluate(group, {**ITEM, "city": "Тверь"})


def test_empty_group_and_no_filter_pass():
    assert evaluate(FilterGroup(), ITEM)
    assert evaluate(None, ITEM)
    assert explain(None, ITEM).reason == ""


def test_unknown_operator_is_rejected():
    with pytest.raises(ValidationError):
        Condition(field="status", op="similar_to", value="x")
