"""Query strings shared by the listings: the caller, and limit/offset or cursor paging."""

from __future__ import annotations

from typing import Annotated

import attrs

from botgpt.entrypoints.http.fields_dto import Limit, Offset, UserId, described

# Which strings are cursors only the server knows, so the schema cannot say; nor can OpenAPI
# say that two query parameters exclude each other. Both answer 422 invalid_request.
Cursor = Annotated[
    str,
    described(
        description="A previous page's `next_cursor`, unchanged (another string: 422). Not with `offset`.",
    ),
]


@attrs.define
class ListQuery:
    """Page by `limit` and `offset`, or by `cursor` (a previous page's `next_cursor`), not both."""

    user_id: UserId | None = None
    limit: Limit = 20
    offset: Offset = 0
    cursor: Cursor | None = None


@attrs.define
class OwnerQuery:
    user_id: UserId | None = None
