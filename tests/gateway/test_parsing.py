"""Every body format and charset becomes the expected item (pure parsing, no servers)."""

from __future__ import annotations

import pytest
from bpmlink_gateway.parsing import BodyError, parse_request

FORM = "application/x-www-form-urlencoded"


def multipart(boundary: str, *parts: tuple[str, bytes, dict[str, str]]) -> bytes:
    chunks = []
    for disposition, content, headers in parts:
        head = f"Content-Disposition: form-data; {disposition}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        chunks.append(f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()


def test_json_object_is_the_item() -> None:
    assert parse_request("application/json", b'{"name": "Ann", "n": 2, "tags": ["a"]}', b"") == {
        "name": "Ann",
        "n": 2,
        "tags": ["a"],
    }


def test_json_array_and_scalar_are_wrapped() -> None:
    assert parse_request("application/json", b"[1, 2]", b"") == {"items": [1, 2]}
    assert parse_request("application/json", b'"x"', b"") == {"value": "x"}


def test_json_in_utf16_with_bom_and_in_a_declared_charset() -> None:
    assert parse_request("application/json", '{"name": "Иван"}'.encode("utf-16"), b"") == {"name": "Иван"}
    body = '{"name": "Иван"}'.encode("cp1251")
    assert parse_request("application/json; charset=windows-1251", body, b"") == {"name": "Иван"}


def test_json_that_is_not_utf8_names_the_charset_it_was_read_as() -> None:
    """Without a charset the body is read as UTF-8, and the 400 says so (it said "not valid None")."""
    with pytest.raises(BodyError, match=r"^the body is not valid UTF-8$"):
        parse_request("application/json", '{"name": "Иван"}'.encode("cp1251"), b"")
    with pytest.raises(BodyError, match=r"^the body is not valid cp1252$"):
        parse_request("application/json; charset=windows-1252", b'{"a": "\x81"}', b"")


def test_vendor_json_and_json_sent_as_text_plain() -> None:
    assert parse_request("application/vnd.api+json", b'{"a": 1}', b"") == {"a": 1}
    assert parse_request("text/plain", b' {"a": 1}', b"") == {"a": 1}


def test_json_nul_characters_are_replaced_because_jsonb_refuses_them() -> None:
    assert parse_request("application/json", b'{"a": "x\\u0000y"}', b"") == {"a": "x\ufffdy"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": ', "invalid JSON"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": 1e999}', "out of range"),
        (b"[" * 100 + b"]" * 100, "deeper than"),
    ],
)
def test_bad_json_is_400_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BodyError) as error:
        parse_request("application/json", body, b"")
    assert error.value.status_code == 400
    assert reason in error.value.message


def test_form_repeated_keys_become_lists() -> None:
    assert parse_request(FORM, b"phone=1&phone=2&name=Ann", b"") == {"phone": ["1", "2"], "name": "Ann"}


def test_form_bracketed_keys_become_objects_and_lists() -> None:
    body = (
        b"fields%5Bname%5D=Ann&fields[email]=a%40x.io&tags[]=hot&tags[]=web"
        b"&items[0][sku]=A1&items[1][sku]=B2&items[0][qty]=3&contact[phones][]=1"
    )
    assert parse_request(FORM, body, b"") == {
        "fields": {"name": "Ann", "email": "a@x.io"},
        "tags": ["hot", "web"],
        "items": [{"sku": "A1", "qty": "3"}, {"sku": "B2"}],
        "contact": {"phones": ["1"]},
    }


def test_form_conflicting_shapes_keep_the_literal_key() -> None:
    assert parse_request(FORM, b"a=1&a[b]=2", b"") == {"a": "1", "a[b]": "2"}


def test_form_plus_and_blank_values() -> None:
    assert parse_request(FORM, b"name=Ann+Lee&empty=&flag", b"") == {"name": "Ann Lee", "empty": "", "flag": ""}


def test_windows_1251_form_with_declared_charset() -> None:
    body = b"name=%C8%E2%E0%ED&city=%CC%EE%F1%EA%E2%E0"  # «Иван», «Москва» in windows-1251
    assert parse_request(f"{FORM}; charset=windows-1251", body, b"") == {"name": "Иван", "city": "Москва"}


def test_windows_1251_form_without_charset_falls_back_from_invalid_utf8() -> None:
    assert parse_request(FORM, b"name=%C8%E2%E0%ED", b"") == {"name": "Иван"}


def test_utf8_form_and_the_charset_field() -> None:
    assert parse_request(FORM, "name=Иван".encode(), b"") == {"name": "Иван"}
    assert parse_request(FORM, b"_charset_=windows-1251&name=%C8%E2%E0%ED", b"") == {"name": "Иван"}


def test_form_in_a_declared_charset_that_does_not_fit_is_400() -> None:
    with pytest.raises(BodyError) as error:
        parse_request(f"{FORM}; charset=utf-8", b"name=%C8%E2", b"")
    assert error.value.status_code == 400


def test_unknown_charset_is_415() -> None:
    with pytest.raises(BodyError) as error:
        parse_request(f"{FORM}; charset=klingon", b"a=1", b"")
    assert error.value.status_code == 415


def test_multipart_fields_files_and_brackets() -> None:
    body = multipart(
        "b0undary",
        ('name="name"', "Иван".encode(), {}),
        ('name="fields[email]"', b"a@x.io", {}),
        ('name="tags[]"', b"x", {}),
        ('name="cv"; filename="cv.pdf"', b"%PDF-1.4 0123456789", {"Content-Type": "application/pdf"}),
    )
    assert parse_request("multipart/form-data; boundary=b0undary", body, b"") == {
        "name": "Иван",
        "fields": {"email": "a@x.io"},
        "tags": ["x"],
        "cv": {"filename": "cv.pdf", "content_type": "application/pdf", "size": 19},
    }


def test_multipart_windows_1251_by_part_charset_and_by_charset_field() -> None:
    body = multipart(
        "xx", ('name="name"', "Иван".encode("cp1251"), {"Content-Type": "text/plain; charset=windows-1251"})
    )
    assert parse_request("multipart/form-data; boundary=xx", body, b"") == {"name": "Иван"}
    body = multipart("xx", ('name="_charset_"', b"windows-1251", {}), ('name="city"', "Москва".encode("cp1251"), {}))
    assert parse_request("multipart/form-data; boundary=xx", body, b"") == {"city": "Москва"}


def test_multipart_without_boundary_or_with_a_wrong_one_is_400() -> None:
    body = multipart("xx", ('name="a"', b"1", {}))
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=yy"):
        with pytest.raises(BodyError) as error:
            parse_request(content_type, body, b"")
        assert error.value.status_code == 400


def test_xml_children_repeated_elements_attributes_and_namespaces() -> None:
    body = b"""<?xml version="1.0"?>
    <lead xmlns:c="urn:crm" source="site">
      <name>Ann</name>
      <phone type="work">1</phone>
      <phone>2</phone>
      <c:company><title>ACME</title><inn>77</inn></c:company>
      <empty/>
      <!-- a comment -->
    </lead>"""
    assert parse_request("application/xml", body, b"") == {
        "@source": "site",
        "name": "Ann",
        "phone": [{"@type": "work", "#text": "1"}, "2"],
        "company": {"title": "ACME", "inn": "77"},
        "empty": "",
    }


def test_xml_in_windows_1251_declared_in_the_prolog_or_in_the_header() -> None:
    declared = '<?xml version="1.0" encoding="windows-1251"?><lead><name>Иван</name></lead>'.encode("cp1251")
    assert parse_request("text/xml", declared, b"") == {"name": "Иван"}
    plain = "<lead><name>Иван</name></lead>".encode("cp1251")
    assert parse_request("application/xml; charset=windows-1251", plain, b"") == {"name": "Иван"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<lead><name>Ann</lead>", "invalid XML"),
        (b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "DTD"),
    ],
)
def test_bad_or_dangerous_xml_is_400(body: bytes, reason: str) -> None:
    with pytest.raises(BodyError) as error:
        parse_request("application/xml", body, b"")
    assert error.value.status_code == 400
    assert reason in error.value.message


def test_query_parameters_merge_into_the_item_and_the_body_wins() -> None:
    item = parse_request("application/json", b'{"name": "Ann", "utm": "body"}', b"utm=query&src=site&tag[]=a")
    assert item == {"utm": "body", "src": "site", "tag": ["a"], "name": "Ann"}


def test_empty_body_gives_the_query_only() -> None:
    assert parse_request(None, b"", b"a=1") == {"a": "1"}
    assert parse_request("application/json", b"  ", b"") == {}


def test_unsupported_media_type_is_415() -> None:
    with pytest.raises(BodyError) as error:
        parse_request("text/csv", b"a,b\n1,2", b"")
    assert error.value.status_code == 415
    assert "text/csv" in error.value.message


def test_body_without_content_type_is_sniffed() -> None:
    assert parse_request(None, b'{"a": 1}', b"") == {"a": 1}
    assert parse_request(None, b"<x><a>1</a></x>", b"") == {"a": "1"}
    with pytest.raises(BodyError):
        parse_request(None, b"a=1", b"")


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "x\\u0000y", "b": 1}',
        "{\"a\": \"\\u0000\"}".encode("utf-16"),
        b'{"a": [' * 17 + b"1" + b"]}" * 17,  # 34 brackets, nested 34 deep: refused
        b'{"a": {"b": {"c": [1, 2, {"d": "e"}]}}}',
        b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": "\\\\u0000"}',  # brackets and an escape, in text only
    ],
)
def test_the_shortcut_past_the_cleaning_walk_never_changes_the_item(body: bytes) -> None:
    """Bodies with nothing to clean skip the walk; every body gives the item (or the error) the walk gives."""
    import json

    from bpmlink_gateway import parsing

    try:
        expected: object = parsing._clean(json.loads(body))
    except BodyError as exc:
        expected = exc.message
    try:
        got: object = parse_request("application/json", body, b"")
    except BodyError as exc:
        got = exc.message
    if isinstance(got, dict) and isinstance(expected, dict | list):
        expected = expected if isinstance(expected, dict) else {"items": expected}
    assert got == expected
