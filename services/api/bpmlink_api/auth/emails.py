"""The account e-mails (confirmation, password reset, invitation) and the links they carry.

Links point at the SPA's pages under BPMLINK_PUBLIC_URL; the page reads ?token= and calls the api.
Texts are in the recipient's interface language (English or Russian).
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import quote

from bpmlink.kit import mail
from bpmlink.kit.messages import message
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


_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "confirm": {
        "en": (
            "Confirm your e-mail address for bpmlink",
            "Welcome to bpmlink!\n\nTo confirm your address and log in, open this link:\n{link}\n\n"
            "It works once, until {expires}. If you did not sign up, ignore this message.\n",
        ),
        "ru": (
            "Подтвердите адрес электронной почты в bpmlink",
            "Добро пожаловать в bpmlink!\n\nЧтобы подтвердить адрес и войти, откройте ссылку:\n{link}\n\n"
            "Она действует один раз, до {expires}. Если вы не регистрировались, просто удалите это письмо.\n",
        ),
    },
    "already_registered": {
        "en": (
            "Your bpmlink account",
            "Someone (perhaps you) tried to sign up with this address, but it already has an account.\n\n"
            "If you forgot your password, set a new one here:\n{link}\n\n"
            "The link works once, until {expires}. Otherwise ignore this message.\n",
        ),
        "ru": (
            "Ваша учётная запись bpmlink",
            "Кто-то (возможно, вы) пытался зарегистрироваться с этим адресом, но учётная запись уже есть.\n\n"
            "Если вы забыли пароль, задайте новый по ссылке:\n{link}\n\n"
            "Ссылка действует один раз, до {expires}. Иначе просто удалите это письмо.\n",
        ),
    },
    "reset": {
        "en": (
            "Reset your bpmlink password",
            "To set a new password, open this link:\n{link}\n\n"
            "It works once, until {expires}. Setting a new password logs you out everywhere.\n"
            "If you did not ask for this, ignore this message: your password stays as it is.\n",
        ),
        "ru": (
            "Сброс пароля bpmlink",
            "Чтобы задать новый пароль, откройте ссылку:\n{link}\n\n"
            "Она действует один раз, до {expires}. После смены пароля все ваши сеансы завершатся.\n"
            "Если вы не запрашивали сброс, удалите это письмо: пароль останется прежним.\n",
        ),
    },
    "invite": {
        "en": (
            "{inviter} invited you to {workspace} on bpmlink",
            "{inviter} invited you to the workspace «{workspace}» on bpmlink as {role}.\n\n"
            "To join, open this link:\n{link}\n\nIt works once, until {expires}.\n",
        ),
        "ru": (
            "{inviter} приглашает вас в {workspace} в bpmlink",
            "{inviter} приглашает вас в рабочее пространство «{workspace}» в bpmlink с ролью {role}.\n\n"
            "Чтобы присоединиться, откройте ссылку:\n{link}\n\nОна действует один раз, до {expires}.\n",
        ),
    },
}


async def send(
    settings: Settings, kind: str, to: str, language: str, *, link: str, expires_at: datetime, **values: str
) -> None:
    """Send one account e-mail; 503 (nothing is committed) when the SMTP server does not take it."""
    subject, body = _TEXTS[kind].get(language, _TEXTS[kind]["en"])
    # Names typed by users go into the subject: no line breaks in a header.
    fields = {"link": link, "expires": _when(expires_at), **{k: " ".join(v.split()) for k, v in values.items()}}
    try:
        await mail.send_mail(settings, [to], subject.format(**fields), body.format(**fields))
    except mail.MAIL_ERRORS as exc:
        log.warning("account e-mail (%s) not sent: %s", kind, exc)
        raise Unavailable(message("email_not_sent", "the e-mail could not be sent; try again later")) from exc
