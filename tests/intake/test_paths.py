from bpmlink.intake.paths import get, masked, read, text


def test_dotted_paths_walk_objects_and_list_indexes() -> None:
    item = {"data": {"FIELDS": {"ID": "42"}}, "leads": {"add": [{"id": 1}, {"id": 2}]}}
    assert get(item, "data.FIELDS.ID") == "42"
    assert get(item, "leads.add.1.id") == 2
    assert get(item, "leads.add.2.id") is None
    assert get(item, "data.FIELDS.ID.x") is None
    assert get(item, "missing") is None


def test_header_paths_read_lower_case_headers() -> None:
    headers = {"x-request-id": "abc"}
    assert read("header:X-Request-Id", item={}, headers=headers) == "abc"
    assert read("header:x-other", item={}, headers=headers) is None
    assert read("a", item={"a": 1}, headers=headers) == 1


def test_text_of_scalars_only() -> None:
    assert [text(1), text(True), text("x"), text(None), text([1]), text({"a": 1})] == [
        "1",
        "true",
        "x",
        None,
        None,
        None,
    ]


def test_a_top_level_key_with_dots_is_read_as_itself() -> None:
    assert get({"hub.mode": "subscribe", "hub": {"mode": "other"}}, "hub.mode") == "subscribe"
    assert get({"hub": {"mode": "other"}}, "hub.mode") == "other"


def test_masked_replaces_values_at_paths_without_changing_the_item() -> None:
    item = {"auth": {"application_token": "s3", "domain": "x"}, "hub.verify_token": "t", "list": [{"k": "v"}]}
    hidden = masked(item, ["auth.application_token", "hub.verify_token", "list.0.k", "missing.path"], "***")
    assert hidden == {
        "auth": {"application_token": "***", "domain": "x"},
        "hub.verify_token": "***",
        "list": [{"k": "***"}],
    }
    assert item["auth"]["application_token"] == "s3" and item["list"][0]["k"] == "v"
    assert masked(item, [], "***") is item
