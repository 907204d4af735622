"""Who is calling. One component, so that a later identity scheme replaces only this file."""

from __future__ import annotations

from typing import Protocol

from quart import Request

USER_HEADER = "X-User-Id"


class IdentityResolver(Protocol):
    """Resolves the user a request acts for."""

    def resolve(self, request: Request, claimed: str | None) -> str | None:
        """The user id the request acts for, or None when it names none."""
        ...


class SeedIdentity:
    """The seed system's identity: the caller names itself with ``user_id`` (in the body or
    the query string) or the ``X-User-Id`` header, and is trusted.

    With no name, item endpoints act by possession of the conversation id (128 random bits),
    as the seed did; listing, which has no id to possess, requires a name.
    """

    def resolve(self, request: Request, claimed: str | None) -> str | None:
        for candidate in (claimed, request.args.get("user_id"), request.headers.get(USER_HEADER)):
            if candidate and candidate.strip():
                return candidate.strip()
        return None
