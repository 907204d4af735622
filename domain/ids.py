"""Identifiers: random 128-bit hex strings, unguessable and sortable by nothing."""

from __future__ import annotations

import re
import uuid

from botgpt.domain.errors import InvalidId

_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A fresh identifier."""
    return uuid.uuid4().hex


def checked_id(value: str, what: str = "id") -> str:
    """``value`` if it is shaped like our ids; ``InvalidId`` otherwise."""
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidId(f"{what} is malformed: expected 32 lowercase hex characters")
    return value
