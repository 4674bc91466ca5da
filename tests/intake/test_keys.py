from bpmlink.catalog.model import Idempotency
from bpmlink.intake.keys import MAX_KEY_LENGTH, item_keys


def test_the_senders_parts_joined_and_optional_parts_left_out() -> None:
    rule = Idempotency(parts=["event", "data.id", "?data.version"])
    items = [{"event": "add", "data": {"id": 7, "version": 2}}, {"event": "add", "data": {"id": 8}}]
    assert item_keys(items, rule, headers={}) == ["add:7:2", "add:8"]


def test_a_missing_required_part_falls_back_to_the_header_then_the_users_field() -> None:
    rule = Idempotency(parts=["tranid"])
    assert item_keys([{"x": 1}], rule, headers={"idempotency-key": "k1"}) == ["k1"]
    assert item_keys([{"order": 5}], rule, headers={}, field="order") == ["5"]
    assert item_keys([{"x": 1}], rule, headers={}) == [None]


def test_header_keys_of_several_items_get_the_items_index() -> None:
    rule = Idempotency(parts=["header:x-delivery"])
    assert item_keys([{}, {}], rule, headers={"x-delivery": "d1"}) == ["d1#0", "d1#1"]
    assert item_keys([{}], rule, headers={"x-delivery": "d1"}) == ["d1"]
    assert item_keys([{}, {}], None, headers={"idempotency-key": "k"}) == ["k#0", "k#1"]


def test_keys_over_the_column_length_are_hashed() -> None:
    [key] = item_keys([{"id": "x" * 300}], Idempotency(parts=["id"]), headers={})
    assert key is not None and key.startswith("sha256:") and len(key) <= MAX_KEY_LENGTH
    [other] = item_keys([{"id": "x" * 299 + "y"}], Idempotency(parts=["id"]), headers={})
    assert other != key


def test_objects_and_empty_values_are_no_key() -> None:
    assert item_keys([{"id": {"a": 1}}, {"id": ""}], Idempotency(parts=["id"]), headers={}) == [None, None]
