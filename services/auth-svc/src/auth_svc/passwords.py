"""argon2id password hashes. Hashing costs tens of ms, so it runs in a worker thread, never on the loop."""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when `password` matches. With no hash (unknown user) a dummy hash is checked so the answer
        takes about as long as for a known user."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("dummy password for unknown users")
            password_hash = self._dummy_hash
            await asyncio.to_thread(self._check, password_hash, password)
            return False
        return await asyncio.to_thread(self._check, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
