"""The console's e-mail: one plain-text message through the SMTP server of the ``[mail]`` settings."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from aggregator.config import MailSettings


class MailError(Exception):
    """The message could not be handed to the SMTP server; the message says why."""


def mail_configured(settings: MailSettings) -> bool:
    """True when a ``[mail]`` host is set."""
    return bool(settings.host.strip())


def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> None:
    """Send ``body`` to ``to``; raises :class:`MailError` on any SMTP or network failure."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{settings.host}:{settings.port}: {exc}") from exc
