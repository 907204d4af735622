"""Limits every listing shares."""

from __future__ import annotations

from botgpt.domain.errors import InvalidRequest

MAX_PAGE_SIZE = 100
# Far past any real listing, and well inside every store's integer range (SQLite's is 64-bit).
MAX_OFFSET = 1_000_000_000


def check_paging(limit: int, offset: int, max_limit: int = MAX_PAGE_SIZE) -> None:
    """``InvalidRequest`` unless 1 <= limit <= max_limit and 0 <= offset <= MAX_OFFSET."""
    if not 1 <= limit <= max_limit:
        raise InvalidRequest(f"limit must be between 1 and {max_limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidRequest(f"offset must be between 0 and {MAX_OFFSET:,}")
