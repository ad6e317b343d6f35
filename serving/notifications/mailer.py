"""Sending one e-mail through the configured SMTP server (``LEARNLAKE_SMTP_URL``), with the standard
library: ``smtp://[user:password@]host:port`` (STARTTLS when the server offers it) or ``smtps://``."""

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from learnlake.settings import Settings

TIMEOUT_S = 30


def send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail; raises OSError / smtplib.SMTPException when it cannot."""
    url = urlsplit(settings.smtp_url or "")
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise ValueError("LEARNLAKE_SMTP_URL must be smtp://host:port or smtps://host:port")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 25), timeout=TIMEOUT_S) as smtp:
        if url.scheme == "smtp":
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
