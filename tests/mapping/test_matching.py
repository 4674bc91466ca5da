"""Property tests of bpmlink/mapping/matching.py: a value matches its own differently written forms,
never a different number or address, and two values that match always share a lock key."""

from hypothesis import given
from hypothesis import strategies as st

from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.matching import (
    Compare,
    CompareAs,
    lock_value,
    same,
    search_number,
    search_prefix,
)

PHONE = Compare(as_=CompareAs.PHONE, region="RU")
EMAIL = Compare(as_=CompareAs.EMAIL)
GMAIL = Compare(as_=CompareAs.EMAIL, gmail=True)
TEXT = Compare(as_=CompareAs.TEXT, ignore_case=True, ignore_yo=True)

# Russian mobile numbers: +7 9XX XXX-XX-XX (ten digits after the country code).
ru_mobiles = st.integers(min_value=0, max_value=99_999_999).map(lambda n: f"9{12 + n % 80:02d}{n % 10_000_000:07d}")


def written_forms(ten: str) -> list[str]:
    """How people write one Russian number."""
    a, b, c, d, e = ten[:3], ten[3:6], ten[6:8], ten[8:], ten
    return [
        f"+7{e}",
        f"8{e}",
        f"+7 ({a}) {b}-{c}-{d}",
        f"8 ({a}) {b}-{c}-{d}",
        f"+7 {a} {b} {c} {d}",
        f"7-{a}-{b}-{c}{d}",
        f" 8{a}{b}{c}{d} ",
        f"+7.{a}.{b}.{c}.{d}",
    ]


@given(ru_mobiles, st.data())
def test_a_phone_matches_every_written_form_of_itself(ten, data):
    first = data.draw(st.sampled_from(written_forms(ten)))
    second = data.draw(st.sampled_from(written_forms(ten)))
    assert same(first, second, PHONE)
    assert lock_value(first, PHONE) == lock_value(second, PHONE)  # one lock for the number (invariant 3)
    assert search_number(first).startswith(search_prefix(second) or "x")  # and the SearchNumber search finds it


@given(ru_mobiles, ru_mobiles, st.data())
def test_a_phone_never_matches_a_different_number(one, other, data):
    if one == other:
        return
    first = data.draw(st.sampled_from(written_forms(one)))
    second = data.draw(st.sampled_from(written_forms(other)))
    assert not same(first, second, PHONE)


@given(ru_mobiles)
def test_the_same_last_digits_in_another_country_is_another_number(ten):
    assert not same(f"+7{ten}", f"+1{ten}", PHONE)
    assert not same(f"+7 {ten}", f"+44 {ten}", Compare(as_=CompareAs.PHONE))


local_parts = st.from_regex(r"[a-z][a-z0-9]{0,10}(\.[a-z0-9]{1,5})?", fullmatch=True)
domains = st.sampled_from(["example.com", "mail.ru", "yandex.ru", "corp.example.org"])


def cases(text: str, flips: list[bool]) -> str:
    return "".join(ch.upper() if flip else ch for ch, flip in zip(text, flips + [False] * len(text), strict=False))


@given(local_parts, domains, st.lists(st.booleans(), max_size=40), st.sampled_from(["", " ", "  \t"]))
def test_an_email_matches_itself_in_any_case_and_trimmed(local, domain, flips, pad):
    address = f"{local}@{domain}"
    written = pad + cases(address, flips) + pad
    assert same(address, written, EMAIL)
    assert lock_value(address, EMAIL) == lock_value(written, EMAIL)


@given(local_parts, local_parts, domains, domains)
def test_an_email_never_matches_a_different_address(one, other, domain, other_domain):
    if (one, domain) == (other, other_domain):
        return
    assert not same(f"{one}@{domain}", f"{other}@{other_domain}", EMAIL)
    assert not same(f"{one}@{domain}", f"{other}@{other_domain}", GMAIL)


@given(local_parts)
def test_gmail_aliases_match_only_when_asked(local):
    dotted = ".".join(local.replace(".", ""))  # j.o.h.n
    assert same(f"{local}@gmail.com", f"{dotted}@googlemail.com", GMAIL)
    assert lock_value(f"{local}@gmail.com", GMAIL) == lock_value(f"{dotted}@GoogleMail.com", GMAIL)
    if dotted != local:
        assert not same(f"{local}@gmail.com", f"{dotted}@gmail.com", EMAIL)  # off by default
    assert not same(f"{local}@gmail.com", f"{local}@gmail.com.evil.example", GMAIL)


def test_text_ignores_case_and_yo_only_when_asked():
    assert same("  Алёна   Петрова ", "алена петрова", TEXT)
    assert not same("Алёна", "Алена", Compare(as_=CompareAs.TEXT))
    assert not same("Алёна", "Алина", TEXT)
    assert lock_value("Алёна", Compare(as_=CompareAs.TEXT)) == lock_value("АЛЕНА", Compare(as_=CompareAs.TEXT))


def test_the_compare_defaults_follow_the_column():
    policy = DedupPolicy(mode="update_if_found", match=[{"fields": ["MobilePhone"]}, {"fields": ["Email", "Name"]}])
    assert [policy.compare_of(n).as_ for n in ("MobilePhone", "Email", "Name", "HomePhone")] == [
        CompareAs.PHONE,
        CompareAs.EMAIL,
        CompareAs.EXACT,
        CompareAs.PHONE,
    ]


def test_match_fields_is_one_group_and_is_written_back_only_for_one():
    one = DedupPolicy.model_validate({"mode": "skip_if_found", "match_fields": ["Email"]})
    assert one.model_dump(mode="json")["match"] == [{"fields": ["Email"]}]
    assert one.model_dump(mode="json")["match_fields"] == ["Email"]
    # An old editor changes match_fields and sends back the match it read: match_fields wins.
    edited = DedupPolicy.model_validate(
        {"mode": "skip_if_found", "match": [{"fields": ["Email"]}], "match_fields": ["Phone"]}
    )
    assert edited.match[0].fields == ["Phone"]
    two = DedupPolicy.model_validate(
        {"mode": "skip_if_found", "match": [{"fields": ["Phone"]}, {"fields": ["Email"]}], "match_fields": []}
    )
    assert len(two.match) == 2 and two.model_dump(mode="json")["match_fields"] == []
    assert two.model_dump(mode="json", exclude_none=True).get("compare") == {}
    shaped = DedupPolicy.model_validate(
        {
            "mode": "skip_if_found",
            "match": [{"fields": ["Email"]}],
            "compare": {"Email": {"as": "email", "gmail": True}},
        }
    )
    assert shaped.model_dump(mode="json", exclude_none=True)["compare"]["Email"]["as"] == "email"
