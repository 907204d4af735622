"""Who is calling. One component decides, so the identity scheme lives in this file alone.

With API keys in force, the key decides: a ``user_id`` in the request must match the key's
user (403 otherwise), and may be left out. Without any key (open mode), the seed's scheme
applies: the caller names itself with ``user_id`` or ``X-User-Id`` and is trusted.
"""

from __future__ import annotations

from typing import Protocol

import attrs
from quart import Request, g

from botgpt.domain.errors import Forbidden, InvalidRequest
from botgpt.domain.model import ApiKey

USER_HEADER = "X-User-Id"


@attrs.frozen
class Principal:
    """The authenticated caller: a user, through one of its keys."""

    user_id: str
    key: ApiKey


def current_principal() -> Principal | None:
    """The request's authenticated principal; None in open mode."""
    return getattr(g, "principal", None)


class IdentityResolver(Protocol):
    """Resolves the user a request acts for."""

    @property
    def default_user(self) -> str:
        """Who a request that names no user acts for in open mode."""
        ...

    def resolve(self, request: Request, claimed: str | None) -> str | None:
        """The user id the request acts for, or None when it names none (open mode only)."""
        ...


@attrs.define
class KeyOrSeedIdentity:
    """API keys when any exist; the seed's self-declared ``user_id`` otherwise, and
    ``default_user`` for requests that name none (the page, the CLI, curl and the SDKs alike)."""

    default_user: str = "local"

    def resolve(self, request: Request, claimed: str | None) -> str | None:
        named = [c.strip() for c in (claimed, request.args.get("user_id"), request.headers.get(USER_HEADER)) if c]
        principal = current_principal()
        if principal is None:
            if claimed is not None and not claimed.strip():
                raise InvalidRequest("user_id must not be empty; leave it out to act as the default user")
            return next((name for name in named if name), None)
        if any(name and name != principal.user_id for name in named):
            raise Forbidden("user_id does not match the API key's user")
        return principal.user_id
