"""Sending one plain-text e-mail over the SMTP server of BPMLINK_SMTP_* (incidents, account links)."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from bpmlink.kit.settings import Settings

# What a failed delivery raises: the server refused, or it could not be reached.
MAIL_ERRORS: tuple[type[Exception], ...] = (aiosmtplib.SMTPException, OSError)


def configured(settings: Settings) -> bool:
    """Whether bpmlink can send e-mail at all (BPMLINK_SMTP_HOST is set)."""
    return bool(settings.smtp_host)


async def send_mail(settings: Settings, to: list[str], subject: str, body: str) -> None:
    """Hand the message to the SMTP server; raises one of MAIL_ERRORS when it is not accepted."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=20,
    )
