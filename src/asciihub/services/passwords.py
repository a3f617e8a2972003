"""Password rules and argon2id hashing off the event loop, a few hashes at a time.

Hashing and verifying take tens of milliseconds of CPU and ``argon2_memory_kib`` of
memory each, so they run in worker threads behind a semaphore: a login flood queues
instead of exhausting the machine. Unknown handles are verified against a dummy hash,
so a failed login takes as long whether or not the handle exists.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from asciihub.errors import InvalidInput

_BASES = (
    "password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm "
    "letmein welcome monkey dragon master shadow sunshine princess football baseball "
    "basketball soccer hockey superman batman iloveyou trustno1 starwars whatever freedom "
    "michael jennifer jordan hunter ranger buster thomas robert daniel charlie andrew "
    "matthew joshua george michelle jessica ashley amanda nicole summer winter spring autumn "
    "flower purple orange yellow silver golden diamond cookie chocolate pepper ginger "
    "cheese banana apple samsung computer internet secret access admin administrator root "
    "login user guest test tester changeme default hello hello123 abc abcdef abcdefg "
    "killer pokemon naruto minecraft fortnite roblox liverpool chelsea arsenal barcelona "
    "mustang corvette ferrari harley yamaha tigger pussycat kitty puppy doggie lovely "
    "angel angels babygirl sweety butterfly rainbow jesus christ blessed heaven matrix "
    "zaq12wsx 1qaz2wsx qazwsx 1q2w3e4r 1q2w3e q1w2e3r4 asdf1234 qwer1234 aaaaaa "
    "asciihub ascii artwork gallery"
).split()
_SUFFIXES = (
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "!",
    "1!",
    "123!",
    "01",
    "007",
    "69",
    "99",
    "00",
    "11",
    "13",
    "21",
    "22",
    "23",
    "77",
    "88",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "2026",
    "@123",
    "#1",
)
_SEQUENCES = (
    "0123456789",
    "1234567890",
    "0987654321",
    "9876543210",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qazwsxedc",
    "abcdefghij",
    "abc123456",
)


def common_passwords() -> frozenset[str]:
    """Well-known passwords (base words with common suffixes, keyboard and digit runs)."""
    words = {base + suffix for base in _BASES for suffix in _SUFFIXES}
    words |= {base.capitalize() + suffix for base in _BASES for suffix in _SUFFIXES}
    for sequence in _SEQUENCES:
        words |= {sequence[:n] for n in range(6, len(sequence) + 1)}
    words |= {digit * n for digit in "0123456789abcxz" for n in range(6, 21)}
    return frozenset(word.lower() for word in words)


_COMMON = common_passwords()


@dataclass(frozen=True)
class PasswordRules:
    """Length limits; composition rules are deliberately absent (NIST 800-63B)."""

    min_length: int = 10
    max_length: int = 256

    def check(self, password: object, *, handle: str) -> str:
        """The password if it follows the rules; InvalidInput saying which rule it broke."""
        if not isinstance(password, str) or not password:
            message = "password is required and must be a string"
            raise InvalidInput(message, code="invalid_password")
        if len(password) < self.min_length:
            message = (
                f"the password is shorter than {self.min_length} characters; choose a longer one"
            )
            raise InvalidInput(message, code="password_too_short")
        if len(password) > self.max_length:
            message = f"the password is longer than {self.max_length} characters"
            raise InvalidInput(message, code="password_too_long")
        lowered = password.lower()
        if lowered in _COMMON or lowered == handle.lower() or len(set(password)) < 3:
            message = "this password is too common or too easy to guess; choose another"
            raise InvalidInput(message, code="password_too_common")
        return password


class PasswordHashing:
    """argon2id hashing and verification in threads, ``concurrency`` at a time."""

    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._concurrency = concurrency
        self._slots: asyncio.Semaphore | None = None
        self._dummy: str | None = None
        self.running = 0
        self.peak = 0

    async def _run(self, func: object, *args: str) -> object:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._concurrency)
        async with self._slots:
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                return await asyncio.to_thread(func, *args)  # type: ignore[arg-type]
            finally:
                self.running -= 1

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return str(await self._run(self._hasher.hash, password))

    async def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """(matches, a fresh hash when the stored one uses old parameters).

        ``stored`` None (unknown user or no password) still costs one verification.
        """
        if stored is None:
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            await self._run(self._quiet_verify, self._dummy, password)
            return False, None
        matched = bool(await self._run(self._quiet_verify, stored, password))
        if matched and self._hasher.check_needs_rehash(stored):
            return True, await self.hash(password)
        return matched, None

    def _quiet_verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
