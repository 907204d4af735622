"""API keys: creation (the secret is shown once), listing, revocation, authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from botgpt.domain.errors import InvalidRequest, NotFound
from botgpt.domain.ids import new_id
from botgpt.domain.model import ApiKey
from botgpt.ports.keys import KeyStore

KEY_PREFIX = "bgpt"


def hash_secret(secret: str) -> str:
    """Keys carry 256 random bits, so a plain SHA-256 cannot be brute-forced; a slow
    password hash would only slow down every request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _prefix_of(secret: str) -> str | None:
    parts = secret.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == KEY_PREFIX and len(parts[1]) == 12 else None


@attrs.frozen
class NewKey:
    """A created key and its secret, which is never stored and never shown again."""

    key: ApiKey
    secret: str


@attrs.define
class KeyService:
    """Issues and checks API keys."""

    store: KeyStore
    clock: Callable[[], datetime]
    # Whether keys exist is asked on every request; the answer is kept this long. A key
    # created by another process is enforced within that time; revocation is immediate,
    # because each key itself is looked up on every request.
    mode_cache: timedelta = timedelta(seconds=2)
    _mode: tuple[datetime, bool] | None = attrs.field(default=None, init=False)

    async def create(
        self, user_id: str, requests_per_minute: int | None = None, tokens_per_day: int | None = None
    ) -> NewKey:
        """A new key for ``user_id``; the secret is returned once."""
        if not user_id.strip():
            raise InvalidRequest("a key needs a user")
        prefix = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey(
            id=new_id(), user_id=user_id.strip(), prefix=prefix, secret_hash=hash_secret(secret),
            created_at=self.clock(), requests_per_minute=requests_per_minute or None,
            tokens_per_day=tokens_per_day or None,
        )  # fmt: skip
        await self.store.add_key(key)
        self._mode = None
        return NewKey(key, secret)

    async def list_keys(self) -> list[ApiKey]:
        """Every key, oldest first (hashes only)."""
        return await self.store.list_keys()

    async def revoke(self, key_id_or_prefix: str) -> ApiKey:
        """Revoke a key by id or prefix; it stops working at once."""
        for key in await self.store.list_keys():
            if key_id_or_prefix in (key.id, key.prefix) and key.active:
                await self.store.revoke_key(key.id, self.clock())
                self._mode = None
                return attrs.evolve(key, revoked_at=self.clock())
        raise NotFound("no active key with that id or prefix")

    async def authenticate(self, secret: str) -> ApiKey | None:
        """The active key this secret belongs to, or None."""
        prefix = _prefix_of(secret)
        key = await self.store.find_key(prefix) if prefix else None
        if key is None or not key.active or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
            return None
        return key

    async def keys_required(self) -> bool:
        """Keys are required as soon as one active key exists."""
        now = self.clock()
        if self._mode is not None and self._mode[0] > now:
            return self._mode[1]
        required = await self.store.has_active_keys()
        self._mode = (now + self.mode_cache, required)
        return required
