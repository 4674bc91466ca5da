from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bpmlink.mapping.dedup import merge_for_update
from bpmlink.mapping.paths import get_path
from bpmlink.mapping.templates import render_template
from bpmlink.mapping.values import parse_number

FAST = settings(max_examples=150, deadline=None)

amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False)


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


@FAST
@given(amounts)
def test_to_number_round_trips_russian_writing(value):
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    assert parse_number(f"{sign}{_group(whole, ' ')},{frac}") == value


@FAST
@given(amounts)
def test_to_number_round_trips_english_writing(value):
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    assert parse_number(f"{sign}{_group(whole, ',')}.{frac}") == value


@FAST
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_to_number_round_trips_plain_integers(value):
    assert parse_number(str(value)) == value


@FAST
@given(st.text(min_size=1, max_size=30), st.text(max_size=30))
def test_any_key_is_reachable_by_a_quoted_path(key, value):
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    assert get_path({"wrap": {key: value}}, f'wrap["{escaped}"]') == value


@FAST
@given(st.text(max_size=200))
def test_template_prints_values_as_data(value):
    assert render_template("{{ v }}", {"v": value}) == value


@FAST
@given(
    st.dictionaries(st.sampled_from(["A", "B", "C"]), st.one_of(st.none(), st.text(max_size=5))),
    st.dictionaries(st.sampled_from(["A", "B", "C"]), st.text(min_size=1, max_size=5)),
    st.dictionaries(st.sampled_from(["A", "B", "C"]), st.sampled_from(["overwrite", "fill_if_empty", "keep"])),
)
def test_merge_then_merge_again_changes_nothing(existing, mapped, rules):
    patch = merge_for_update(existing, mapped, rules)
    assert merge_for_update({**existing, **patch}, mapped, rules) == {}
