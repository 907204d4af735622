"""Query strings shared by the listings: the caller, and limit/offset or cursor paging."""

from __future__ import annotations

import attrs


@attrs.define
class ListQuery:
    user_id: str | None = None
    limit: int = 20
    offset: int = 0
    cursor: str | None = None


@attrs.define
class OwnerQuery:
    user_id: str | None = None
