"""`$metadata` parsing (CSDL 4 EDMX and the OData 3 EDMX 1.0/CSDL shape) and its cache.

Parsed with defusedxml: DTDs, entity declarations and external references are refused, so
a hostile or broken server cannot expand entities or make us fetch files. Namespaces are
matched by local name, which covers EDMX 4.0 (`docs.oasis-open.org`) and EDMX 1.0 with
CSDL 1–3 (`schemas.microsoft.com`) alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bpmlink.bpmonline.errors import ConfigurationError, NotFoundError, summarize_html


@dataclass(frozen=True)
class FieldInfo:
    """One column. `lookup_entity` is set on a lookup column (`AccountId` → `"Account"`)."""

    name: str
    type: str
    nullable: bool = True
    max_length: int | None = None
    lookup_entity: str | None = None
    is_stream: bool = False
    is_key: bool = False

    @property
    def selectable(self) -> bool:
        # Creatio answers 500 to a stream column in $select (§3.9).
        return not self.is_stream


@dataclass(frozen=True)
class EntityInfo:
    name: str
    fields: dict[str, FieldInfo]
    key: tuple[str, ...] = ("Id",)
    # navigation name → (target entity, lookup column)
    navigations: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    @property
    def lookups(self) -> dict[str, str]:
        """Lookup column → target entity."""
        return {f.name: f.lookup_entity for f in self.fields.values() if f.lookup_entity}

    def selectable_fields(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.selectable]


@dataclass(frozen=True)
class Metadata:
    version: int
    namespace: str
    entities: dict[str, EntityInfo]

    def entity(self, name: str) -> EntityInfo:
        try:
            return self.entities[name]
        except KeyError:
            raise NotFoundError(f"entity {name!r} is not in $metadata", code="unknown_entity") from None

    def types_for(self, entity: str) -> _Resolver:
        """A `filters.FieldTypes` resolver for filters on `entity`."""
        return _Resolver(self, self.entity(entity))


class _Resolver:
    def __init__(self, metadata: Metadata, entity: EntityInfo) -> None:
        self._metadata = metadata
        self._entity = entity

    def resolve(self, path: str) -> tuple[str, str | None]:
        if "/" in path:
            nav, prop = path.split("/", 1)
            target = self._entity.navigations.get(nav)
            if target is None:
                return path, None
            info = self._metadata.entities.get(target[0])
            col = info.fields.get(prop) if info else None
            if col is None and prop == "Id":
                return path, "Edm.Guid"
            return path, col.type if col else None
        col = self._entity.fields.get(path)
        if col is None:
            return path, None
        if col.lookup_entity:
            # Creatio cannot filter on the flat column (500 "Column by path … not found").
            nav_name = next((n for n, (_, c) in self._entity.navigations.items() if c == path), None)
            if nav_name:
                return f"{nav_name}/Id", "Edm.Guid"
        return path, col.type


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _strip_ns(type_name: str) -> str:
    if type_name.startswith("Collection(") and type_name.endswith(")"):
        type_name = type_name[len("Collection(") : -1]
    return type_name.rsplit(".", 1)[-1]


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith("<!doctype html") or head.startswith("<html") or "<html" in head


def parse_metadata(content: bytes | str) -> Metadata:
    """Parse `$metadata` into entities and fields; raise `ConfigurationError` if it is not CSDL."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    if _looks_like_html(text):
        raise ConfigurationError(
            f"$metadata answered with a web page instead of XML ({summarize_html(text)})",
            code="metadata_not_xml",
        )
    try:
        root = fromstring(text.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ConfigurationError(
            f"$metadata refused: it declares a DTD or entities ({type(exc).__name__})",
            code="metadata_unsafe",
        ) from exc
    except ParseError as exc:
        raise ConfigurationError(f"$metadata is not valid XML: {exc}", code="metadata_not_xml") from exc
    if _local(root.tag) != "Edmx":
        raise ConfigurationError("$metadata is XML but not an EDMX document", code="metadata_not_xml")
    version = 4 if root.get("Version", "").startswith("4") else 3
    schemas = [el for el in root.iter() if _local(el.tag) == "Schema"]
    if not schemas:
        raise ConfigurationError("$metadata has no Schema", code="metadata_not_xml")
    associations = _v3_associations(schemas)
    entities: dict[str, EntityInfo] = {}
    namespace = ""
    for schema in schemas:
        for et in _children(schema, "EntityType"):
            info = _entity(et, associations)
            if info.name not in entities:
                entities[info.name] = info
                namespace = namespace or schema.get("Namespace", "")
    return Metadata(version=version, namespace=namespace, entities=entities)


# association name → role → (target type, lookup column on the dependent side or None)
_Assocs = dict[str, dict[str, tuple[str, str | None]]]


def _v3_associations(schemas: list[Element]) -> _Assocs:
    """OData 3 navigation properties point at Associations; index their ends."""
    out: _Assocs = {}
    for schema in schemas:
        for assoc in _children(schema, "Association"):
            ends = {e.get("Role", ""): _strip_ns(e.get("Type", "")) for e in _children(assoc, "End")}
            dependent_cols: dict[str, str] = {}
            for rc in _children(assoc, "ReferentialConstraint"):
                principal = next(iter(_children(rc, "Principal")), None)
                dependent = next(iter(_children(rc, "Dependent")), None)
                if principal is not None and dependent is not None:
                    ref = next(iter(_children(dependent, "PropertyRef")), None)
                    if ref is not None:
                        dependent_cols[principal.get("Role", "")] = ref.get("Name", "")
            out[assoc.get("Name", "")] = {role: (target, dependent_cols.get(role)) for role, target in ends.items()}
    return out


def _entity(et: Element, associations: _Assocs) -> EntityInfo:
    name = et.get("Name", "")
    keys = tuple(ref.get("Name", "") for key in _children(et, "Key") for ref in _children(key, "PropertyRef")) or (
        "Id",
    )
    fields: dict[str, FieldInfo] = {}
    for prop in _children(et, "Property"):
        pname = prop.get("Name", "")
        ptype = prop.get("Type", "")
        max_len = prop.get("MaxLength")
        fields[pname] = FieldInfo(
            name=pname,
            type=ptype,
            nullable=prop.get("Nullable", "true").lower() != "false",
            max_length=int(max_len) if max_len and max_len.isdigit() else None,
            is_stream=ptype == "Edm.Stream",
            is_key=pname in keys,
        )
    navigations: dict[str, tuple[str, str | None]] = {}
    for nav in _children(et, "NavigationProperty"):
        nav_name = nav.get("Name", "")
        target: str | None = None
        column: str | None = None
        if nav.get("Type"):  # CSDL 4
            if nav.get("Type", "").startswith("Collection("):
                continue  # a one-to-many detail, not a lookup
            target = _strip_ns(nav.get("Type", ""))
            rc = next(iter(_children(nav, "ReferentialConstraint")), None)
            if rc is not None:
                column = rc.get("Property")
        elif nav.get("Relationship"):  # CSDL 1–3
            ends = associations.get(_strip_ns(nav.get("Relationship", "")), {})
            end = ends.get(nav.get("ToRole", ""))
            if end:
                target, column = end
        if not target:
            continue
        if not column and f"{nav_name}Id" in fields:
            column = f"{nav_name}Id"
        if column and column in fields:
            fields[column] = _with_lookup(fields[column], target)
        navigations[nav_name] = (target, column)
    return EntityInfo(name=name, fields=fields, key=keys, navigations=navigations)


def _with_lookup(info: FieldInfo, target: str) -> FieldInfo:
    return FieldInfo(
        name=info.name,
        type=info.type,
        nullable=info.nullable,
        max_length=info.max_length,
        lookup_entity=target,
        is_stream=info.is_stream,
        is_key=info.is_key,
    )


_V = TypeVar("_V")


class MetadataCache(Generic[_V]):
    """Parsed `$metadata` (or captions) per connection, in-process, with a TTL and explicit refresh.

    `$metadata` of a real tenant runs to megabytes; fetching it once per connection and TTL
    keeps entity/field discovery and typed filters cheap.
    """

    def __init__(self, ttl_seconds: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._items: dict[Any, tuple[float, _V]] = {}

    def peek(self, key: Any) -> _V | None:
        """The cached value if still fresh, without fetching."""
        item = self._items.get(key)
        if item and self._clock() - item[0] < self.ttl_seconds:
            return item[1]
        return None

    async def get(self, key: Any, fetch: Callable[[], Awaitable[_V]], *, refresh: bool = False) -> _V:
        cached = None if refresh else self.peek(key)
        if cached is not None:
            return cached
        value = await fetch()
        self._items[key] = (self._clock(), value)
        return value


# One cache per process, shared by every client of a connection.
metadata_cache: MetadataCache[Metadata] = MetadataCache()
