"""The target entity's fields as mapping sees them, from bpm'online's $metadata."""

from __future__ import annotations

from bpmlink.bpmonline.metadata import EntityInfo
from bpmlink.mapping.types import TargetField

# Columns bpm'online fills itself: listed, never mapping targets.
SYSTEM_COLUMNS = frozenset({"Id", "CreatedOn", "CreatedById", "ModifiedOn", "ModifiedById", "ProcessListeners"})
# $metadata marks nothing but the key as required; these are the practical minimums
# a create needs (reference §4), so the wizard can insist on them.
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "Contact": frozenset({"Name"}),
    "Account": frozenset({"Name"}),
    "Activity": frozenset({"Title"}),
    "Opportunity": frozenset({"Title"}),
    "Case": frozenset({"Subject"}),
}


def target_fields(entity: EntityInfo) -> dict[str, TargetField]:
    """Writable, non-stream columns of the entity, with the practical required flags."""
    required = REQUIRED_FIELDS.get(entity.name, frozenset())
    return {
        f.name: TargetField(
            name=f.name,
            type=f.type,
            required=f.name in required,
            max_length=f.max_length,
            lookup_entity=f.lookup_entity,
        )
        for f in entity.fields.values()
        if not f.is_stream and f.name not in SYSTEM_COLUMNS
    }
