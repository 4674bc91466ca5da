"""Turning one webhook request (body + query string) into one item: a JSON object.

What each body becomes:

- JSON: an object is the item; an array becomes `{"items": [...]}`, a scalar `{"value": x}`.
  NaN/Infinity, numbers out of range and nesting deeper than MAX_DEPTH are refused (400):
  PostgreSQL's JSONB could not store them and the sender would retry for ever.
- application/x-www-form-urlencoded and the query string: repeated keys become lists;
  bracketed keys nest (`fields[name]` → object, `tags[]` → list, `items[0][x]` → list of
  objects; an object whose keys are all indexes becomes a list in index order). A key that
  conflicts with an earlier one of another shape (`a=1&a[b]=2`) is kept under its literal name.
- multipart/form-data: text fields as in a form; a file field becomes
  `{"filename", "content_type", "size"}` and its content is skipped (the raw body, which the
  event keeps, still has it — the item stays small and JSON-safe).
- XML (defusedxml; DTDs and entities refused): the root element's children become the
  item's fields; repeated elements become lists; attributes are kept under `@name`; text
  beside children or attributes under `#text`; namespaces are dropped from names.
- text/plain holding JSON is read as JSON (some senders label JSON so).

Charset: the Content-Type `charset` parameter (or a form's `_charset_` field) is honoured;
without one, form data that is not valid UTF-8 is read as windows-1251, the legacy charset
of the Russian-speaking sites this product serves. The query string's fields are merged
into the item; a body field of the same name wins.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELDS = 2000
MAX_DEPTH = 32
FALLBACK_CHARSET = "windows-1251"


class BodyError(Exception):
    """A body that cannot become an item: 400 (malformed) or 415 (unsupported type or charset)."""

    def __init__(self, message: str, *, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def parse_request(content_type: str | None, body: bytes, query_string: bytes) -> dict[str, Any]:
    """The item for a request: query fields, then the body's fields on top."""
    item = parse_form(query_string, None) if query_string else {}
    if body.strip():
        item.update(parse_body(content_type, body))
    return item


def parse_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    media_type, params = _content_type(content_type)
    charset = _charset(params.get("charset"))
    if media_type == "application/json" or media_type.endswith("+json"):
        return parse_json(body, charset)
    if media_type == "application/x-www-form-urlencoded":
        return parse_form(body, charset)
    if media_type == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise BodyError("multipart/form-data without a boundary parameter")
        return parse_multipart(body, boundary, charset)
    if media_type in ("application/xml", "text/xml") or media_type.endswith("+xml"):
        return parse_xml(body, charset)
    sniffed = body.lstrip()[:1]
    if media_type in ("", "text/plain", "application/octet-stream") and sniffed in (b"{", b"["):
        return parse_json(body, charset)
    if media_type == "" and sniffed == b"<":
        return parse_xml(body, charset)
    shown = media_type or "a body without Content-Type"
    raise BodyError(
        f"unsupported media type {shown}: send JSON, form-urlencoded, multipart/form-data or XML", status_code=415
    )


# --- content type and charset -----------------------------------------------------------


def _content_type(value: str | None) -> tuple[str, dict[str, str]]:
    if not value:
        return "", {}
    media, raw_params = parse_options_header(value)
    params = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_params.items()}
    return media.decode("latin-1").strip().lower(), params


def _charset(name: str | None) -> str | None:
    """A codec name for the charset parameter; 415 for one Python does not know."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip('"')).name
    except LookupError:
        raise BodyError(f"unsupported charset {name!r}", status_code=415) from None


def _decode(raw: bytes, charset: str | None) -> str:
    if charset:
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            raise BodyError(f"the body is not valid {charset}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode(FALLBACK_CHARSET, errors="replace")


# --- JSON -------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def parse_json(body: bytes, charset: str | None) -> dict[str, Any]:
    try:
        # Without a charset json.loads detects UTF-8/16/32 and a BOM from the bytes themselves.
        text: str | bytes = body if charset in (None, "utf-8") else body.decode(charset)
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:  # without a charset json.loads read the bytes as UTF-8
        raise BodyError(f"the body is not valid {charset or 'UTF-8'}") from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BodyError(f"invalid JSON: {exc}") from None
    if not _nothing_to_clean(text):
        value = _clean(value)
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {"items": value}
    return {"value": value}


def _nothing_to_clean(text: str | bytes) -> bool:
    """True when `_clean` would change nothing, read off the JSON text (a few C scans instead of a walk):
    a NUL can only come from a raw NUL byte or a \\u0000 escape, and the nesting cannot be deeper than
    the number of opening brackets. UTF-16/32 bodies hold NUL bytes, so they are always walked."""
    if isinstance(text, bytes):
        return b"\x00" not in text and b"\\u0000" not in text and text.count(b"{") + text.count(b"[") <= MAX_DEPTH
    return "\x00" not in text and "\\u0000" not in text and text.count("{") + text.count("[") <= MAX_DEPTH


def _clean(value: Any, depth: int = 0) -> Any:
    """Bound the depth and drop NUL characters, which PostgreSQL's JSONB refuses."""
    if depth > MAX_DEPTH:
        raise BodyError(f"the body is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k, depth): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


# --- forms: repeated and bracketed keys -------------------------------------------------

_BRACKETED = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_MISSING = object()


class _Node(dict[str, Any]):
    """An object being built from bracketed keys (a leaf may itself be a plain dict: file metadata)."""


class _Repeated(list[Any]):
    """The values of a key sent more than once."""


def _split_key(key: str) -> list[str]:
    match = _BRACKETED.match(key)
    if not match:
        return [key]
    segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    return segments if len(segments) <= MAX_DEPTH else [key]


def _next_index(node: _Node) -> str:
    index = len(node)
    while str(index) in node:
        index += 1
    return str(index)


def _add_value(node: _Node, name: str, value: Any) -> bool:
    """Set or repeat a leaf; False when the name already holds an object."""
    existing = node.get(name, _MISSING)
    if existing is _MISSING:
        node[name] = value
    elif isinstance(existing, _Node):
        return False
    elif isinstance(existing, _Repeated):
        existing.append(value)
    else:
        node[name] = _Repeated([existing, value])
    return True


class FormBuilder:
    """Collects (key, value) pairs into one nested item."""

    def __init__(self) -> None:
        self.root = _Node()
        self.count = 0

    def add(self, key: str, value: Any) -> None:
        self.count += 1
        if self.count > MAX_FIELDS:
            raise BodyError(f"more than {MAX_FIELDS} fields")
        key, value = _clean(key), _clean(value)
        segments = _split_key(key)
        node = self.root
        for position, segment in enumerate(segments):
            name = segment if segment != "" else _next_index(node)
            if position == len(segments) - 1:
                if not _add_value(node, name, value):
                    self._conflict(key, value)
                return
            child = node.get(name)
            if child is None:
                child = node[name] = _Node()
            elif not isinstance(child, _Node):
                self._conflict(key, value)
                return
            node = child

    def _conflict(self, key: str, value: Any) -> None:
        # The key's shape contradicts an earlier key: keep the value under its literal name.
        if not _add_value(self.root, key, value):
            target = self.root[key]
            _add_value(target, "_value", value)

    def result(self) -> dict[str, Any]:
        finished = _finish(self.root)
        assert isinstance(finished, dict)
        return finished


def _finish(value: Any) -> Any:
    if isinstance(value, _Node):
        if value and all(k.isdigit() and len(k) < 10 for k in value):
            return [_finish(value[k]) for k in sorted(value, key=int)]
        return {k: _finish(v) for k, v in value.items()}
    if isinstance(value, _Repeated):
        return [_finish(v) for v in value]
    return value


def _form_pairs(raw: bytes) -> list[tuple[bytes, bytes]]:
    pairs = []
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        name, _, value = chunk.partition(b"=")
        pairs.append((unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))))
    return pairs


def _form_charset(pairs: list[tuple[bytes, bytes]], charset: str | None) -> str | None:
    """The declared charset, else an HTML form's `_charset_` field, else None (UTF-8 or the fallback)."""
    if charset:
        return charset
    for name, value in pairs:
        if name == b"_charset_" and value:
            return _charset(value.decode("latin-1"))
    return None


def parse_form(raw: bytes, charset: str | None) -> dict[str, Any]:
    pairs = _form_pairs(raw)
    charset = _form_charset(pairs, charset)
    if charset is None:
        # One charset for the whole form: a form is written by one page.
        joined = b"".join(n + v for n, v in pairs)
        try:
            joined.decode("utf-8")
            charset = "utf-8"
        except UnicodeDecodeError:
            charset = FALLBACK_CHARSET
    builder = FormBuilder()
    for name, value in pairs:
        if name == b"_charset_":
            continue
        builder.add(_decode(name, charset), _decode(value, charset))
    return builder.result()


# --- multipart --------------------------------------------------------------------------


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    size: int = 0
    is_file: bool = False
    name: bytes = b""
    filename: bytes | None = None
    content_type: str = ""
    charset: str | None = None


class _MultipartCollector:
    """python-multipart callbacks that keep text fields and only the size of files."""

    def __init__(self) -> None:
        self.parts: list[_Part] = []
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()

    def on_part_begin(self) -> None:
        if len(self.parts) >= MAX_FIELDS:
            raise BodyError(f"more than {MAX_FIELDS} fields")
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers[bytes(self._header_name).decode("latin-1").lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.headers.get("content-disposition", b""))
        if b"name" not in options:
            raise BodyError("a multipart part has no name in its Content-Disposition")
        part.name = options[b"name"]
        if b"filename" in options:
            part.is_file = True
            part.filename = options[b"filename"]
        media, params = _content_type(part.headers.get("content-type", b"").decode("latin-1"))
        part.content_type = media
        part.charset = _charset(params.get("charset"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part.size += end - start
        if not self._part.is_file:
            self._part.data += data[start:end]

    def on_part_end(self) -> None:
        self.parts.append(self._part)


def parse_multipart(body: bytes, boundary: str, charset: str | None) -> dict[str, Any]:
    collector = _MultipartCollector()
    callbacks: Any = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary.encode("latin-1"), callbacks)
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise BodyError(f"invalid multipart body: {exc}") from None
    if not collector.parts:
        raise BodyError("invalid multipart body: no parts (wrong boundary?)")
    text_pairs = [(p.name, bytes(p.data)) for p in collector.parts if not p.is_file]
    form_charset = _form_charset(text_pairs, charset)
    builder = FormBuilder()
    for part in collector.parts:
        if part.name == b"_charset_" and not part.is_file:
            continue
        name = _decode(part.name, form_charset)
        if part.is_file:
            builder.add(
                name,
                {
                    "filename": _decode(part.filename or b"", form_charset),
                    "content_type": part.content_type or "application/octet-stream",
                    "size": part.size,
                },
            )
        else:
            builder.add(name, _decode(bytes(part.data), part.charset or form_charset))
    return builder.result()


# --- XML --------------------------------------------------------------------------------

_XML_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _element_value(element: Element, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise BodyError(f"XML nested deeper than {MAX_DEPTH} levels")
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    value = _Node()
    for name, attribute in element.attrib.items():
        value["@" + _local(name)] = attribute
    for child in children:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        _add_value(value, _local(child.tag), _element_value(child, depth + 1))
    if text:
        value["#text"] = text
    return {k: _finish(v) for k, v in value.items()}


def parse_xml(body: bytes, charset: str | None) -> dict[str, Any]:
    source: bytes | str = body
    try:
        if charset and charset != "utf-8" and not _XML_DECLARED_ENCODING.match(body):
            # The XML declaration, when present, names the encoding; otherwise the header does.
            source = body.decode(charset)
        root = SafeElementTree.fromstring(source, forbid_dtd=True)
    except DefusedXmlException:
        raise BodyError("XML with a DTD or entity declarations is refused") from None
    except ParseError as exc:
        raise BodyError(f"invalid XML: {exc}") from None
    except (UnicodeDecodeError, LookupError, ValueError) as exc:
        raise BodyError(f"invalid XML: {exc}") from None
    value = _clean(_element_value(root, 0))
    if isinstance(value, dict):
        return value
    return {"#text": value} if value else {}
