import pytest

from bpmlink.mapping.paths import WILDCARD, PathSyntaxError, get_path, parse_path

ITEM = {
    "email": "a@example.com",
    "contact": {"emails": ["first@example.com", "second@example.com"], "name": {"first": "Иван"}},
    "items": [{"name": "tea"}, {"name": "cake"}, {"name": "jam"}],
    "utm.source": "google",
    "fields[email]": "form@example.com",
    "first name": "Ann",
    "weird": {"a.b": {"c d": 1}, 'q"uote': 2},
    "none": None,
}


def test_top_level_key():
    assert get_path(ITEM, "email") == "a@example.com"


def test_nested_object_and_array_index():
    assert get_path(ITEM, "contact.emails[0]") == "first@example.com"
    assert get_path(ITEM, "contact.name.first") == "Иван"


def test_index_then_key():
    assert get_path(ITEM, "items[2].name") == "jam"


def test_negative_index_counts_from_the_end():
    assert get_path(ITEM, "items[-1].name") == "jam"


def test_dotted_number_indexes_a_list():
    assert get_path(ITEM, "items.1.name") == "cake"


def test_wildcard_collects_every_element():
    assert get_path(ITEM, "items[*].name") == ["tea", "cake", "jam"]


def test_quoted_key_with_dots_and_spaces():
    assert get_path(ITEM, 'weird["a.b"]["c d"]') == 1
    assert get_path(ITEM, "['first name']") == "Ann"


def test_escaped_quote_inside_quoted_key():
    assert get_path(ITEM, 'weird["q\\"uote"]') == 2


def test_exact_top_level_key_wins_over_path_syntax():
    assert get_path(ITEM, "utm.source") == "google"
    assert get_path(ITEM, "fields[email]") == "form@example.com"


@pytest.mark.parametrize(
    "path",
    ["missing", "contact.missing.deeper", "contact.emails[5]", "items[0].name.x", "email[0]", "none.x", "items.x"],
)
def test_missing_gives_none(path):
    assert get_path(ITEM, path) is None


def test_path_over_non_mapping_item_gives_none():
    assert get_path(["a"], "x") is None
    assert get_path(None, "x") is None


def test_parse_path_segments():
    assert parse_path('a.b[0]["c.d"][*]') == ("a", "b", 0, "c.d", WILDCARD)


@pytest.mark.parametrize("path", ["", "a..b", "a.", ".a", "a[", "a[x]", 'a["x', "a]b", "a[0]b"])
def test_malformed_path_is_rejected(path):
    with pytest.raises(PathSyntaxError):
        parse_path(path)
