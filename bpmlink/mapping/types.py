"""What the engine needs to know about a target field (from bpm'online's ``$metadata``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# The OData types the engine converts to; any other type passes plain JSON values through.
EDM_STRING: Final = "Edm.String"
EDM_INT32: Final = "Edm.Int32"
EDM_INT64: Final = "Edm.Int64"
EDM_DECIMAL: Final = "Edm.Decimal"
EDM_DOUBLE: Final = "Edm.Double"
EDM_BOOLEAN: Final = "Edm.Boolean"
EDM_GUID: Final = "Edm.Guid"
EDM_DATETIMEOFFSET: Final = "Edm.DateTimeOffset"
EDM_DATE: Final = "Edm.Date"

KNOWN_TYPES: Final = frozenset(
    {
        EDM_STRING,
        EDM_INT32,
        EDM_INT64,
        EDM_DECIMAL,
        EDM_DOUBLE,
        EDM_BOOLEAN,
        EDM_GUID,
        EDM_DATETIMEOFFSET,
        EDM_DATE,
    }
)


@dataclass(frozen=True)
class TargetField:
    """One column of the target entity.

    `type` is the OData type name (``Edm.String``…); `max_length` of None (or 0 or
    less, as Creatio writes "unlimited") means no limit; `lookup_entity` is set on
    a lookup's id column (``AccountId`` → ``Account``).
    """

    name: str
    type: str
    required: bool = False
    max_length: int | None = None
    lookup_entity: str | None = None

    @classmethod
    def from_metadata(cls, info: object) -> TargetField:
        """Adapt a `$metadata` column description (duck-typed: name, type, nullable,
        max_length, lookup_entity) such as bpmlink.bpmonline.metadata.FieldInfo."""
        return cls(
            name=str(getattr(info, "name")),  # noqa: B009 - duck-typed on purpose
            type=str(getattr(info, "type")),  # noqa: B009
            required=not bool(getattr(info, "nullable", True)),
            max_length=getattr(info, "max_length", None),
            lookup_entity=getattr(info, "lookup_entity", None),
        )
