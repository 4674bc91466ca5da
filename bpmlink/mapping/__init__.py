"""The mapping engine: pure, I/O-free functions from a source item to bpm'online values.

- `rules`: the bundle's mapping rules (`MappingRule`, `LookupSpec`, `parse_mapping`).
- `engine`: `apply_mapping` (async only because lookups are resolved by an
  injected callable) returning a `MappedRecord`.
- `paths`, `templates`, `conversions`, `coerce`: the pieces a rule is built from;
  `values`: how a number, yes/no, date or phone is read, the same everywhere.
- `filters`: the bundle's filter on source items (`FilterGroup`, `evaluate`, `explain`).
- `dedup`: the dedup policy and `merge_for_update`.
"""

from bpmlink.mapping.coerce import coerce_value, to_json_value
from bpmlink.mapping.conversions import Conversion, ConversionContext, run_conversions
from bpmlink.mapping.dedup import (
    EMPTY_DATETIME,
    EMPTY_GUID,
    DedupMode,
    DedupPolicy,
    UpdateRule,
    check_policy,
    is_creatio_empty,
    match_keys,
    merge_for_update,
    values_equal,
)
from bpmlink.mapping.engine import LookupResolver, MappedRecord, apply_mapping, build_value
from bpmlink.mapping.errors import ConversionError, FieldError, MappingError
from bpmlink.mapping.filters import Condition, FilterError, FilterGroup, FilterResult, evaluate, explain
from bpmlink.mapping.paths import PathSyntaxError, get_path, parse_path
from bpmlink.mapping.rules import LookupSpec, MappingRule, check_rules, parse_mapping, unmapped_required
from bpmlink.mapping.templates import TemplateError, TemplateTimeout, check_template, render_template
from bpmlink.mapping.types import TargetField
from bpmlink.mapping.values import is_blank

__all__ = [
    "EMPTY_DATETIME",
    "EMPTY_GUID",
    "Condition",
    "Conversion",
    "ConversionContext",
    "ConversionError",
    "DedupMode",
    "DedupPolicy",
    "FieldError",
    "FilterError",
    "FilterGroup",
    "FilterResult",
    "LookupResolver",
    "LookupSpec",
    "MappedRecord",
    "MappingError",
    "MappingRule",
    "PathSyntaxError",
    "TargetField",
    "TemplateError",
    "TemplateTimeout",
    "UpdateRule",
    "apply_mapping",
    "build_value",
    "check_policy",
    "check_rules",
    "check_template",
    "coerce_value",
    "evaluate",
    "explain",
    "get_path",
    "is_blank",
    "is_creatio_empty",
    "match_keys",
    "merge_for_update",
    "parse_mapping",
    "parse_path",
    "render_template",
    "run_conversions",
    "to_json_value",
    "unmapped_required",
    "values_equal",
]
