"""E-mail notifications: composed here, sent by the ``email`` queue's consumer.

``export_ready`` tells a user their export can be downloaded; ``artwork_shared``
tells someone an artwork was shared with them. Both only enqueue: the consumer
delivers through the configured :class:`~asciihub.services.mailer.Mailer`, keyed by
the notification id so a redelivered message sends once (see mailer).

A share link's token never goes on the queue (whose file or stream keeps messages,
dead letters included): :meth:`NotificationService.share_sent` leaves the token in KV
under ``share-mail:{share_id}`` (expiring with the link) and queues the share id; the
consumer reads the token, composes the mail, sends it and deletes the entry.
"""

from __future__ import annotations

import logging
from typing import Any

from asciihub.errors import InvalidInput
from asciihub.queue.protocol import JobQueue
from asciihub.services.ids import new_id
from asciihub.services.mailer import Mail, Mailer
from asciihub.storage.kv.keys import share_mail_key
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.protocol import UserRepository

log = logging.getLogger(__name__)

EMAIL_QUEUE = "email"


class NotificationService:
    """Queues e-mails and delivers them (the consumer side)."""

    def __init__(
        self,
        queue: JobQueue,
        mailer: Mailer,
        users: UserRepository,
        *,
        public_url: str,
        kv: KVStore | None = None,
    ) -> None:
        self.queue = queue
        self.mailer = mailer
        self.users = users
        self.public_url = public_url.rstrip("/")
        self.kv = kv

    async def _email_of(self, user_id: str) -> str | None:
        account = await self.users.get(user_id)
        email = getattr(account, "email", None) if account is not None else None
        return email if isinstance(email, str) and email else None

    async def enqueue(self, mail: Mail) -> str:
        """Check ``mail`` and put it on the ``email`` queue; the message id."""
        mail.check()
        body = {
            "type": "email",
            "id": mail.id,
            "to": mail.to,
            "subject": mail.subject,
            "text": mail.text,
        }
        return await self.queue.send(EMAIL_QUEUE, body)

    async def export_ready(self, user_id: str, export_id: str, download_url: str) -> bool:
        """Tell ``user_id`` their export is ready; False when they have no e-mail address."""
        to = await self._email_of(user_id)
        if to is None:
            log.info("event=mail_skipped reason=no_email user=%s", user_id)
            return False
        text = (
            "Your asciihub export is ready.\n\n"
            f"Download it here: {download_url}\n\n"
            f"Export id: {export_id}\n"
        )
        await self.enqueue(Mail(f"export-{export_id}", to, "Your asciihub export is ready", text))
        return True

    async def artwork_shared(
        self, to: str, *, artwork_title: str | None, share_url: str, from_handle: str
    ) -> str:
        """Tell ``to`` that ``from_handle`` shared an artwork with them; the mail id."""
        title = artwork_title or "an artwork"
        text = (
            f"{from_handle} shared {title!s} with you on asciihub.\n\nOpen it here: {share_url}\n"
        )
        mail = Mail(new_id(), to, f"{from_handle} shared an artwork with you", text)
        await self.enqueue(mail)
        return mail.id

    async def share_sent(
        self, to: str, owner_id: str, artwork_title: str | None, share_id: str, token: str, ttl: int
    ) -> str:
        """Queue the "shared with you" mail of link ``share_id`` (the share service's hook).

        The token waits in KV for at most ``ttl`` seconds (the link's lifetime); the
        message carries the share id only. The mail id.
        """
        if self.kv is None:
            message = "this server does not send share links by e-mail; leave out email"
            raise InvalidInput(message, code="email_unavailable")
        owner = await self.users.get(owner_id)
        handle = getattr(owner, "handle", None) if owner is not None else None
        await self.kv.put(share_mail_key(share_id), token.encode(), ttl=max(60, ttl))
        mail_id = f"share-{share_id}"
        body = {
            "type": "email",
            "kind": "share",
            "id": mail_id,
            "to": to,
            "share_id": share_id,
            "from_handle": handle if isinstance(handle, str) else "someone",
            "title": artwork_title,
        }
        await self.queue.send(EMAIL_QUEUE, body)
        return mail_id

    async def _deliver_share(self, body: dict[str, Any]) -> bool:
        share_id = str(body.get("share_id"))
        key = share_mail_key(share_id)
        if self.kv is None:
            message = "this server keeps no share tokens for e-mail; the mail cannot be sent"
            raise InvalidInput(message, code="email_unavailable")
        raw = await self.kv.get(key)
        if raw is None:  # expired, or sent by an earlier delivery
            log.info("event=share_mail_skipped share=%s reason=token_gone", share_id)
            return False
        from_handle = str(body.get("from_handle") or "someone")
        title = body.get("title") or "an artwork"
        url = f"{self.public_url}/s/{raw.decode()}"
        text = f"{from_handle} shared {title!s} with you on asciihub.\n\nOpen it here: {url}\n"
        subject = f"{from_handle} shared an artwork with you"
        sent = await self.mailer.send(Mail(str(body["id"]), str(body["to"]), subject, text))
        await self.kv.delete(key)
        return sent

    async def deliver(self, body: Any) -> bool:
        """Send the e-mail one ``email`` message describes (the consumer's work)."""
        if not isinstance(body, dict):
            message = "an e-mail message is a JSON object"
            raise InvalidInput(message, code="invalid_mail_message")
        if body.get("kind") == "share":
            if not isinstance(body.get("id"), str) or not isinstance(body.get("to"), str):
                message = "a share e-mail message carries id, to and share_id"
                raise InvalidInput(message, code="invalid_mail_message")
            return await self._deliver_share(body)
        try:
            mail = Mail(str(body["id"]), str(body["to"]), str(body["subject"]), str(body["text"]))
        except KeyError as exc:
            message = f"an e-mail message lacks {exc.args[0]!r}"
            raise InvalidInput(message, code="invalid_mail_message") from None
        return await self.mailer.send(mail)
