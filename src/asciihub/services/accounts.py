"""Accounts: signup, login, logout, password change and account deletion.

Login and signup answer the same way whether or not a handle exists (a wrong handle
and a wrong password are one error, and both cost one argon2 verification). Failed
logins are throttled per handle and per client IP, never locked out for good. Every
login starts a new session (no fixation); a password change ends every session of the
user and starts a new one; deleting an account removes its artworks, objects, shares,
tokens, preferences and sessions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asciihub.errors import Forbidden, InvalidInput, RateLimited, Unauthenticated
from asciihub.services.artworks import ArtworkService
from asciihub.services.ids import new_id
from asciihub.services.passwords import PasswordHashing, PasswordRules
from asciihub.services.principals import Principal
from asciihub.services.ratelimit import Limit, RateLimiter
from asciihub.services.sessions import SessionStore
from asciihub.storage.metadata.account_types import AccountRepository, AccountRow
from asciihub.storage.metadata.protocol import ArtworkRepository, ListFilter
from asciihub.storage.objects.keys import avatar_key, user_exports_prefix
from asciihub.storage.objects.protocol import ObjectStore

log = logging.getLogger(__name__)

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{2,31}$")
RESERVED_HANDLES = frozenset(
    "about account accounts admin administrator api asciihub anonymous app assets auth "
    "avatar avatars contact dashboard docs explore gallery guest help home login logout "
    "local me metrics null root search security settings share shares signup static "
    "status support system token tokens undefined user users www".split()
)
MAX_EMAIL_CHARS = 320


@dataclass(frozen=True)
class LoginLimits:
    """The failed-login and signup throttles."""

    per_handle: Limit
    per_ip: Limit
    signup_per_ip: Limit


def account_json(account: AccountRow) -> dict[str, Any]:
    """The logged-in user as ``GET /api/me`` shows it."""
    return {
        "id": account.id,
        "handle": account.handle,
        "email": account.email,
        "created_at": account.created_at.isoformat(),
        "avatar_url": f"/api/users/{account.handle}/avatar.png"
        if account.avatar_updated_at
        else None,
    }


def _fields(
    payload: Any, required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(payload, dict):
        message = f"send a JSON object with {', '.join(sorted(required))}"
        raise InvalidInput(message)
    unknown = sorted(set(payload) - required - optional)
    if unknown:
        message = f"unknown fields: {', '.join(unknown)}"
        raise InvalidInput(message, code="unknown_field")
    missing = sorted(required - set(payload))
    if missing:
        message = f"missing fields: {', '.join(missing)}"
        raise InvalidInput(message, code="missing_field")
    return payload


def check_handle(handle: Any) -> str:
    """A valid handle, lower-cased; InvalidInput naming the rule otherwise."""
    if not isinstance(handle, str):
        message = "handle must be a string"
        raise InvalidInput(message, code="invalid_handle")
    lowered = handle.strip().lower()
    if not HANDLE_RE.match(lowered):
        message = (
            "a handle has 3 to 32 characters: letters, digits, '_' and '-', "
            "starting with a letter or digit"
        )
        raise InvalidInput(message, code="invalid_handle")
    if lowered in RESERVED_HANDLES:
        message = f"the handle {lowered!r} is reserved; choose another"
        raise InvalidInput(message, code="handle_reserved")
    return lowered


def check_email(email: Any) -> str | None:
    """The address, None when absent; InvalidInput unless it looks like one."""
    if email is None or email == "":
        return None
    if (
        not isinstance(email, str)
        or len(email) > MAX_EMAIL_CHARS
        or email.count("@") != 1
        or any(ch.isspace() for ch in email)
        or email.startswith("@")
        or email.endswith("@")
    ):
        message = f"email must look like name@example.org, at most {MAX_EMAIL_CHARS} characters"
        raise InvalidInput(message, code="invalid_email")
    return email


def _bad_credentials() -> Unauthenticated:
    message = "the handle or the password is wrong"
    return Unauthenticated(message, code="invalid_credentials")


class AccountService:
    """The account use cases over users, sessions, password hashing and rate limits."""

    def __init__(
        self,
        *,
        accounts: AccountRepository,
        artworks_repo: ArtworkRepository,
        artworks: ArtworkService,
        objects: ObjectStore,
        sessions: SessionStore,
        hashing: PasswordHashing,
        rules: PasswordRules,
        limiter: RateLimiter,
        limits: LoginLimits,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.accounts = accounts
        self.artworks_repo = artworks_repo
        self.artworks = artworks
        self.objects = objects
        self.sessions = sessions
        self.hashing = hashing
        self.rules = rules
        self.limiter = limiter
        self.limits = limits
        self.clock = clock

    async def create_user(self, handle: Any, password: Any, email: Any = None) -> AccountRow:
        """Check and store a new user (the API's signup and the CLI's ``user create``)."""
        checked = check_handle(handle)
        secret = self.rules.check(password, handle=checked)
        now = self.clock()
        account = AccountRow(
            id=new_id(),
            handle=checked,
            email=check_email(email),
            password_hash=await self.hashing.hash(secret),
            is_local=False,
            created_at=now,
            password_changed_at=now,
        )
        await self.accounts.create(account)
        log.info("event=user_created user=%s", account.id)
        return account

    async def signup(self, payload: Any, client_ip: str) -> tuple[AccountRow, str]:
        """Create an account and log it in: (account, session secret)."""
        body = _fields(payload, {"handle", "password"}, frozenset({"email"}))
        await self.limiter.hit(self.limits.signup_per_ip, client_ip)
        account = await self.create_user(body["handle"], body["password"], body.get("email"))
        return account, await self.sessions.create(account.id)

    async def login(
        self, payload: Any, client_ip: str, *, previous_session: str | None = None
    ) -> tuple[AccountRow, str]:
        """Check the password and start a fresh session: (account, session secret)."""
        body = _fields(payload, {"handle", "password"})
        handle, password = body["handle"], body["password"]
        if not isinstance(handle, str) or not isinstance(password, str):
            raise _bad_credentials()
        subject = handle.strip().lower()[:64]
        # Counted before the password is checked (one atomic incr each), so a burst of
        # concurrent guesses cannot all pass; a login that succeeds is taken back.
        await self.limiter.hit(self.limits.per_ip, client_ip)
        try:
            await self.limiter.hit(self.limits.per_handle, subject)
        except RateLimited:
            await self.limiter.undo(self.limits.per_ip, client_ip)
            raise
        account = await self.accounts.get_by_handle(subject) if HANDLE_RE.match(subject) else None
        too_long = len(password) > self.rules.max_length
        stored = None if account is None or too_long else account.password_hash
        matched, rehashed = await self.hashing.verify(stored, password[: self.rules.max_length])
        if not matched or account is None:
            log.info("event=login_failed ip=%s", client_ip)
            raise _bad_credentials()
        await self.limiter.undo(self.limits.per_ip, client_ip)
        await self.limiter.undo(self.limits.per_handle, subject)
        if rehashed is not None:
            await self.accounts.set_password(account.id, rehashed, self.clock())
        if previous_session is not None:
            await self.sessions.end(previous_session)
        log.info("event=login user=%s", account.id)
        return account, await self.sessions.create(account.id)

    async def logout(self, principal: Principal) -> None:
        """End the session the request came with (if any)."""
        if principal.session_id is not None:
            await self.sessions.end(principal.session_id)

    async def me(self, principal: Principal) -> AccountRow:
        """The account of a logged-in principal (session or token)."""
        if principal.user_id is None:
            message = "log in or send an API token"
            raise Unauthenticated(message)
        account = await self.accounts.get(principal.user_id)
        if account is None or account.is_local:
            message = "log in or send an API token"
            raise Unauthenticated(message)
        return account

    async def _reauthenticate(self, principal: Principal, password: Any) -> AccountRow:
        if principal.session_id is None:
            message = "this needs a logged-in session and your password, not an API token"
            raise Forbidden(message, code="session_required")
        account = await self.me(principal)
        matched = (
            isinstance(password, str)
            and (await self.hashing.verify(account.password_hash, password))[0]
        )
        if not matched:
            message = "the current password is wrong"
            raise Forbidden(message, code="wrong_password")
        return account

    async def change_password(self, principal: Principal, payload: Any) -> str:
        """Set a new password, end every session, and return a new session secret."""
        body = _fields(payload, {"current_password", "new_password"})
        account = await self._reauthenticate(principal, body["current_password"])
        secret = self.rules.check(body["new_password"], handle=account.handle)
        await self.accounts.set_password(account.id, await self.hashing.hash(secret), self.clock())
        await self.sessions.end_all(account.id)
        log.info("event=password_changed user=%s", account.id)
        return await self.sessions.create(account.id)

    async def delete_account(self, principal: Principal, payload: Any) -> None:
        """Delete the account with everything it owns; its sessions end at once."""
        body = _fields(payload, {"password"})
        account = await self._reauthenticate(principal, body["password"])
        await self.sessions.end_all(account.id)
        owner = Principal(user_id=account.id)
        everything = ListFilter(visibilities=("private", "unlisted", "public"), user_id=account.id)
        while rows := await self.artworks_repo.page(everything, after=None, limit=100):
            for row in rows:
                await self.artworks.delete(owner, row.id)
        await self.objects.delete(avatar_key(account.id))
        await self._delete_exports(account.id)
        await self.accounts.delete(account.id)  # export rows go with it (ON DELETE CASCADE)
        await self.sessions.end_all(account.id)
        log.info("event=user_deleted user=%s", account.id)

    async def _delete_exports(self, user_id: str) -> None:
        """Delete every object under ``exports/{user_id}/``."""
        cursor: str | None = None
        while True:
            prefix = user_exports_prefix(user_id)
            page = await self.objects.list(prefix, cursor=cursor, limit=1000)
            if page.objects:
                await self.objects.delete([item.key for item in page.objects])
            if not page.truncated:
                return
            cursor = page.cursor
