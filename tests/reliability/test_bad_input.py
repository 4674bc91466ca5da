"""Bad input: arbitrary unicode through filter building, hostile bodies at the gateway (invariant 4, 1).

- Property: any text value placed in a `$filter` by `bpmlink.bpmonline.filters.F` (eq, ne, the string
  functions, eq_ignore_case, and/or/not) parses back, with the sandbox's own independent parser, as exactly
  one literal equal to the value: values are data, never syntax. (tests/mapping/test_properties.py already
  covers templates, paths, number conversions and update rules with arbitrary text.)
- The gateway is fed truncated, oversized, wrongly declared and deeply nested bodies: each is answered
  with a 4xx in the error shape (never a 5xx, never a stored event for a body it refused).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bpmlink_sandbox.filter_parser import Bin, Call, Lit, Not, Parser
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.bpmonline.dialects import dialect_for
from bpmlink.bpmonline.filters import Expr, F
from bpmlink.db.models import Event
from bpmlink.kit.settings import Settings
from tests.fixtures.pipeline import make_bundle

TEXT = st.text(max_size=60)  # every code point hypothesis draws: quotes, controls, RTL, astral planes


def _literals(node: Any) -> list[Any]:
    if isinstance(node, Lit):
        return [node.value]
    if isinstance(node, Bin):
        return _literals(node.left) + _literals(node.right)
    if isinstance(node, Call):
        return [v for arg in node.args for v in _literals(arg)]
    if isinstance(node, Not):
        return _literals(node.operand)
    return []


def _parse(expr: Expr, version: int) -> Any:
    return Parser(expr.render(dialect_for(version)), version).parse()


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=TEXT, version=st.sampled_from([4, 3]),
       build=st.sampled_from(["eq", "ne", "contains", "startswith", "endswith"]))
def test_any_text_value_is_one_literal_for_the_other_side(value: str, version: int, build: str) -> None:
    tree = _parse(getattr(F, build)("Name", value), version)
    assert _literals(tree) == [value]


@hsettings(max_examples=100, deadline=None)
@given(a=TEXT, b=TEXT, c=TEXT, version=st.sampled_from([4, 3]))
def test_combinations_keep_every_value_in_its_place(a: str, b: str, c: str, version: int) -> None:
    expr = F.and_(F.eq("Name", a), F.or_(F.contains("Email", b), ~F.eq_ignore_case("JobTitle", c)))
    tree = _parse(expr, version)
    assert _literals(tree) == [a, b, c.lower()]
    assert isinstance(tree, Bin) and tree.op == "and"


# --- the gateway --------------------------------------------------------------------------------------
@pytest.fixture
async def hook(settings: Settings, client: httpx.AsyncClient, owner: Any, connection_id: str
               ) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    from bpmlink_gateway.app import create_app

    from bpmlink.kit.web import BodySizeLimit

    bundle = await make_bundle(client, connection_id)
    path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # The same wrapping as the gateway process (asgi_app): the body limit sits in front of the app.
        transport = httpx.ASGITransport(app=BodySizeLimit(app, settings.max_request_bytes))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http, path


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


BAD_BODIES: dict[str, tuple[dict[str, str], bytes]] = {
    "truncated json": ({"Content-Type": "application/json"}, b'{"email": "ann@example.com", "name": "An'),
    "truncated form": ({"Content-Type": "multipart/form-data; boundary=xyz"}, b'--xyz\r\nContent-Disposition: form'),
    "truncated xml": ({"Content-Type": "application/xml"}, b"<lead><email>ann@example.com</email><na"),
    "json declared, xml sent": ({"Content-Type": "application/json"}, b"<lead><email>a@b.c</email></lead>"),
    "xml declared, json sent": ({"Content-Type": "application/xml"}, b'{"email": "a@b.c"}'),
    "unknown type": ({"Content-Type": "application/x-unknown-thing"}, b"\x00\x01\x02binary"),
    "not utf-8": ({"Content-Type": "application/json; charset=utf-8"}, b'{"name": "\xff\xfe\xfa"}'),
    "a json array": ({"Content-Type": "application/json"}, b"[1, 2, 3]"),
    "deeply nested json": ({"Content-Type": "application/json"}, _nested(5000)),
    "deeply nested xml": ({"Content-Type": "application/xml"}, b"<a>" * 5000 + b"x" + b"</a>" * 5000),
    "xml entity bomb": ({"Content-Type": "application/xml"},
                        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                        b"<l><e>&b;</e></l>"),
    "gzip declared": ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, b'{"a": 1}'),
    "oversized": ({"Content-Type": "application/json"}, b'{"a": "' + b"x" * 1_200_000 + b'"}'),
}


async def test_the_gateway_refuses_bad_bodies_with_a_4xx_in_the_error_shape(
    hook: tuple[httpx.AsyncClient, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    http, path = hook
    stored = 0
    for case, (headers, body) in BAD_BODIES.items():  # one bundle for all cases: the setup is the slow part
        response = await http.post(path, content=body, headers=headers)
        if response.status_code == 202:
            # Accepting is allowed only for a body the gateway could read as an item (a nested one within
            # its limits, an array kept under a key): then it is stored like any other event.
            assert case in ("deeply nested json", "deeply nested xml", "a json array"), response.text
            stored += 1
            continue
        assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.text[:300]}"
        assert set(response.json()) == {"error"} and response.json()["error"]["message"], f"{case}: {response.text}"
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Event))
    assert count == stored, "a refused body was stored"


async def test_oversized_body_sent_in_chunks_without_length_is_refused(
    hook: tuple[httpx.AsyncClient, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    http, path = hook

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a": "'
        for _ in range(40):  # 40 × 64 KiB: past the 1 MiB limit without a Content-Length to check up front
            yield b"x" * 65536
        yield b'"}'

    response = await http.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"]
