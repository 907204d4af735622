"""Query strings shared by the listings: the caller, and limit/offset or cursor paging."""

from __future__ import annotations

import attrs

from botgpt.entrypoints.http.fields_dto import Limit, Offset, UserId


@attrs.define
class ListQuery:
    """Page by `limit` and `offset`, or by `cursor` (a previous page's `next_cursor`), not both."""

    user_id: UserId | None = None
    limit: Limit = 20
    offset: Offset = 0
    cursor: str | None = None


@attrs.define
class OwnerQuery:
    user_id: UserId | None = None
