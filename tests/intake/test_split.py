import pytest

from bpmlink.catalog.model import Split
from bpmlink.intake.split import TooManyItems, split_items

AMO = {
    "account": {"subdomain": "acme", "id": "1"},
    "leads": {"add": [{"id": "1"}, {"id": "2"}], "status": [{"id": "3"}]},
    "contacts": {"update": [{"id": "9"}]},
    "tasks": {"add": [{"id": "5"}]},
}


def test_no_split_rule_is_the_item_itself() -> None:
    assert split_items({"a": 1}, None) == [{"a": 1}]


def test_captures_choose_keys_and_keep_copies_the_envelope() -> None:
    rule = Split(path="{entity:leads|contacts}.{action}.*", keep=["account", "account.subdomain"])
    items = split_items(AMO, rule)
    assert [(i["id"], i["_split"]) for i in items] == [
        ("1", {"entity": "leads", "action": "add"}),
        ("2", {"entity": "leads", "action": "add"}),
        ("3", {"entity": "leads", "action": "status"}),
        ("9", {"entity": "contacts", "action": "update"}),
    ]
    assert all(i["account"] == {"subdomain": "acme", "id": "1"} and i["subdomain"] == "acme" for i in items)


def test_plain_names_and_stars_without_captures() -> None:
    items = split_items(
        {"entry": [{"changes": [{"value": {"a": 1}}, {"value": {"a": 2}}]}]}, Split(path="entry.*.changes.*")
    )
    assert items == [{"value": {"a": 1}}, {"value": {"a": 2}}]


def test_scalars_are_skipped_and_nothing_found_is_empty() -> None:
    assert split_items({"events": [1, "x", {"id": 1}]}, Split(path="events.*")) == [{"id": 1}]
    assert split_items({"other": []}, Split(path="events.*")) == []


def test_more_elements_than_the_limit_are_refused_whole() -> None:
    item = {"events": [{"n": n} for n in range(5000)]}
    with pytest.raises(TooManyItems) as caught:
        split_items(item, Split(path="events.*"), limit=500)
    assert caught.value.limit == 500
    assert len(split_items({"events": item["events"][:500]}, Split(path="events.*"), limit=500)) == 500
