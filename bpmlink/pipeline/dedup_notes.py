"""History's account of a dedup search, as messages (codes + params, so it reads in any language):
how many records matched, by which group and values, their ids, and what was done with them."""

from __future__ import annotations

from bpmlink.kit.messages import Message, message
from bpmlink.mapping.dedup import UPDATE_ALL_CAP, DedupPolicy, OnSeveral
from bpmlink.pipeline.match_search import MATCH_LIMIT, GroupFound, PhoneSearch

NO_MATCH = message("dedup_no_match", "no record matches")
MATCH_FIELD_EMPTY = message("dedup_match_field_empty", "a match field is empty, so nothing can be found")
SEVERAL_SKIPPED = message("dedup_several_skipped", "several match, so none was changed (on_several: skip)")
TOO_MANY_TO_UPDATE = message(
    "dedup_too_many_to_update",
    f"more than {UPDATE_ALL_CAP} match, too many to update all: skipped as ambiguous",
    limit=UPDATE_ALL_CAP,
)
USED = {
    OnSeveral.NEWEST: message("dedup_used_newest", "the most recently modified one was used"),
    OnSeveral.OLDEST: message("dedup_used_oldest", "the least recently modified one was used"),
    OnSeveral.UPDATE_ALL: message("dedup_used_each", "each was used"),
}
_PHONES_EXACT = message("dedup_phones_exact", "phones compared exactly (this bpm'online has no SearchNumber column)")


def _then(first: Message, then: Message) -> Message:
    return message("dedup_then", f"{first.text}; {then.text}", first=first, then=then)


def found_note(
    policy: DedupPolicy, found: GroupFound, phone_search: PhoneSearch | None, what: Message | None
) -> Message | None:
    """None for the round-1 case (one group, one record, nothing to flag)."""
    values = [f"{name} = {value}" for name, value in found.values.items()]
    ids = [str(r.get("Id")) for r in found.records]
    fallback = phone_search == PhoneSearch.EXACT_FALLBACK
    if len(ids) == 1 and len(policy.match) == 1 and not fallback:
        return None
    limit = len(ids) >= MATCH_LIMIT
    count = f"{len(ids)}+" if limit else str(len(ids))
    plural = "record matches" if len(ids) == 1 else "records match"
    text = f"{count} {plural} by group {found.index + 1} ({', '.join(values)}): {', '.join(ids)}"
    code = "dedup_matched_at_least" if limit else "dedup_matched"
    note = message(code, text, count=len(ids), group=found.index + 1, values=values, ids=ids)
    if what is not None:
        note = _then(note, what)
    return _then(note, _PHONES_EXACT) if fallback else note
