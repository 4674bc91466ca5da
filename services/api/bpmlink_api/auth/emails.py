"""The account e-mails (confirmation, password reset, invitation) and the links they carry.

Links point at the SPA's pages under BPMLINK_PUBLIC_URL; the page reads ?token= and calls the api.
The words are the `mail_<kind>_subject`/`mail_<kind>_body` codes of `locales/<lang>/mail.json`, in the
recipient's language (`language_for`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bpmlink.db.models import User
from bpmlink.kit import mail
from bpmlink.kit.messages import message, pick_language, render
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import Unavailable

CONFIRM_PATH = "/confirm-email"
RESET_PATH = "/reset-password"
INVITE_PATH = "/invite"

log = logging.getLogger("bpmlink.api.emails")


def link(settings: Settings, path: str, token: str) -> str:
    return f"{settings.public_url}{path}?token={quote(token)}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def language_for(user: User | None, request_language: str) -> str:
    """The recipient's language: the profile's when its owner chose one (or a browser set it at login),
    else the language of the request that caused the e-mail (someone who has not chosen yet reads the
    words of the page they, or their inviter, were on)."""
    return pick_language(None, user.language if user is not None and user.language_set else request_language)


def role_words(role: str) -> dict[str, str]:
    """A role as a message param: rendered in the recipient's language inside the e-mail."""
    return {"code": f"mail_role_{role}", "text": role}


async def send(
    settings: Settings,
    kind: str,
    to: str,
    language: str,
    *,
    link: str,
    expires_at: datetime,
    **values: str | dict[str, str],
) -> None:
    """Send one account e-mail; 503 (nothing is committed) when the SMTP server does not take it."""
    # Names typed by users go into the subject: no line breaks in a header.
    fields: dict[str, Any] = {"link": link, "expires": _when(expires_at)}
    fields.update({k: " ".join(v.split()) if isinstance(v, str) else v for k, v in values.items()})
    subject, body = render(f"mail_{kind}_subject", fields, language), render(f"mail_{kind}_body", fields, language)
    try:
        await mail.send_mail(settings, [to], subject, body)
    except mail.MAIL_ERRORS as exc:
        log.warning("account e-mail (%s) not sent: %s", kind, exc)
        raise Unavailable(message("email_not_sent", "the e-mail could not be sent; try again later")) from exc
