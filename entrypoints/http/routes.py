"""The shape every API route shares, written once: find who is calling, then call the use case.

A route body is then one service call and one DTO. Errors need nothing here: every domain
error is mapped to its status in ``errors.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from dependency_injector.wiring import Provide, inject
from quart import request
from werkzeug.routing import BaseConverter

from botgpt.entrypoints.http.identity import IdentityResolver

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
CLAIM_SOURCES = ("data", "query_args")


class NotImportConverter(BaseConverter):
    """A path segment that is not ``import``, for ``/conversations/<not_import:conversation_id>``.

    ``/conversations/import`` is a sibling route (POST only). Without this, ``PATCH`` or ``GET``
    on it would reach the rename or read route (a 422 for the body, a 400 for the id) instead of
    405 with ``Allow: POST``. Any other segment still reaches the route, whose use case refuses
    a malformed id with 400 invalid_id, as for every other id.
    """

    regex = "(?!import$)[^/]+"


CONVERTERS = {"not_import": NotImportConverter}


def as_caller(
    *, acts: bool = False, claim: str = "user_id", source: str | None = None, form: bool = False
) -> Callable[[F], F]:
    """Pass the view the user the request acts for, as ``user_id``.

    The claim is the ``claim`` field of the validated body or query string (only of the
    ``source`` keyword, "data" or "query_args", when given; of the multipart form with
    ``form``, an empty field counting as absent); ``identity.py`` decides whether to trust
    it. A route that ``acts`` for a user (it creates, lists or searches) acts for the default
    user when the request names none; the others get ``None`` then (open mode: reads by id
    skip the owner check, as the seed's).
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        async def with_caller(*args: Any, **kwargs: Any) -> Any:
            # An empty form field is one left unfilled (an HTML form, Swagger UI's "Try it
            # out"): absent, not a claim to be the user "".
            claimed = (await request.form).get(claim) or None if form else _claimed(kwargs, claim, source)
            resolver = _resolver()
            user_id = resolver.resolve(request, claimed)
            if user_id is None and acts:
                user_id = resolver.default_user
            return await view(*args, user_id=user_id, **kwargs)

        return with_caller  # type: ignore[return-value]

    return decorate


def _claimed(kwargs: dict[str, Any], claim: str, only: str | None) -> str | None:
    for source in (only,) if only else CLAIM_SOURCES:
        value = getattr(kwargs.get(source), claim, None)
        if value is not None:
            return str(value)
    return None


@inject
def _resolver(identity: IdentityResolver = Provide["identity"]) -> IdentityResolver:
    return identity
