"""What a new password must be: long enough, not a common password, not the e-mail address.

No composition rules (digits, capitals, symbols): they make passwords harder to remember, not
to guess (NIST SP 800-63B, 5.1.1.2). The common passwords are zxcvbn's list of the 30,000 most
frequent ones from leaked password sets, shipped inside the PyPI package: nothing is downloaded.
"""

from __future__ import annotations

import functools

from bpmlink.kit.web import InvalidInput

MIN_LENGTH = 8
MAX_LENGTH = 1024


class WeakPassword(InvalidInput):
    code = "weak_password"


@functools.cache
def _common() -> frozenset[str]:
    # Imported on first use: the module holds several large word lists (a few MB).
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, email: str = "") -> str | None:
    """Why the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"use at most {MAX_LENGTH} characters"
    folded = password.strip().casefold()
    if folded in _common():
        return "this is one of the most common passwords; choose another"
    email = email.strip().casefold()
    if email and folded in (email, email.partition("@")[0]):
        return "the password must not be your e-mail address"
    return None


def check(password: str, email: str = "", field: str = "password") -> None:
    """Raise WeakPassword (422, details naming the field) when the password is refused."""
    reason = problem(password, email)
    if reason is not None:
        raise WeakPassword(f"{field}: {reason}", details=[{"field": field, "message": reason}])
