"""Sending e-mail: over SMTP (aiosmtplib) when configured, else ``.eml`` files.

Each message carries a stable ``Message-ID`` built from its id. The outbox writes
``{data_dir}/outbox/{id}.eml`` atomically (temp file, rename), so a message sent twice
is one file; the SMTP sender remembers sent ids in a small ledger in the same way
(``{data_dir}/outbox/sent/{id}``) and skips an id it already sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from asciihub.errors import ConfigError, InvalidInput, Unavailable

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Mail:
    """One e-mail to send."""

    id: str
    to: str
    subject: str
    text: str

    def check(self) -> None:
        """InvalidInput unless the id, address and subject are usable."""
        if not _ID.match(self.id):
            message = "an e-mail id is 1 to 64 of A-Z a-z 0-9 _ -"
            raise InvalidInput(message, code="invalid_mail_id")
        if self.to.count("@") != 1 or any(ch.isspace() or ch in "<>,;" for ch in self.to):
            message = f"{self.to!r} is not an e-mail address"
            raise InvalidInput(message, code="invalid_email")
        if "\n" in self.subject or "\r" in self.subject:
            message = "an e-mail subject is one line"
            raise InvalidInput(message, code="invalid_subject")


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The MIME message of ``mail``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    message["Message-ID"] = f"<{mail.id}@{domain}>"
    message.set_content(mail.text)
    return message


class Mailer(Protocol):
    """Delivers e-mail."""

    async def send(self, mail: Mail) -> bool:
        """Deliver ``mail``; False when this id was delivered before."""
        ...


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


class OutboxMailer:
    """Writes each e-mail as ``{outbox}/{id}.eml`` (no SMTP server configured)."""

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = outbox
        self.sender = sender

    async def send(self, mail: Mail) -> bool:
        """Write the ``.eml`` file; False if it already exists."""
        mail.check()
        path = self.outbox / f"{mail.id}.eml"
        if path.exists():
            return False
        data = bytes(build_message(mail, self.sender))
        await asyncio.to_thread(_write_atomically, path, data)
        log.info("event=mail_written id=%s path=%s", mail.id, path)
        return True


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to reach the SMTP server."""

    host: str
    port: int
    use_tls: bool
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:pass@]host[:port]`` (STARTTLS when offered) or ``smtps://...``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        message = f"smtp_url {url!r}: use smtp://[user:password@]host[:port] or smtps://..."
        raise ConfigError(message)
    tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        use_tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpMailer:
    """Sends over SMTP with aiosmtplib; remembers sent ids in ``ledger``."""

    def __init__(
        self, target: SmtpTarget, sender: str, ledger: Path, *, timeout: float = 30.0
    ) -> None:
        self.target = target
        self.sender = sender
        self.ledger = ledger
        self.timeout = timeout

    async def send(self, mail: Mail) -> bool:
        """Deliver through the server; Unavailable when it cannot be reached."""
        import aiosmtplib

        mail.check()
        mark = self.ledger / mail.id
        if mark.exists():
            return False
        target = self.target
        try:
            await aiosmtplib.send(
                build_message(mail, self.sender),
                hostname=target.host,
                port=target.port,
                use_tls=target.use_tls,
                start_tls=None if not target.use_tls else False,
                username=target.username,
                password=target.password,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            message = f"the SMTP server refused the recipient {mail.to}"
            raise InvalidInput(message, code="mail_refused") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            message = f"the SMTP server {target.host}:{target.port} is unavailable: {exc}"
            raise Unavailable(message, code="smtp_unavailable", retry_after=30) from exc
        await asyncio.to_thread(_write_atomically, mark, b"")
        log.info("event=mail_sent id=%s", mail.id)
        return True


def open_mailer(smtp_url: str, sender: str, data_dir: Path, *, timeout: float = 30.0) -> Mailer:
    """The SMTP mailer when ``smtp_url`` is set, else the ``.eml`` outbox."""
    outbox = data_dir / "outbox"
    if smtp_url:
        return SmtpMailer(parse_smtp_url(smtp_url), sender, outbox / "sent", timeout=timeout)
    return OutboxMailer(outbox, sender)
