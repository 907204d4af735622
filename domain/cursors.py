"""Opaque listing cursors.

A cursor encodes the last position of a page. Clients treat it as an opaque string;
it is base64url so it survives query strings untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from botgpt.domain.errors import InvalidRequest
from botgpt.domain.model import ListPosition


def encode_cursor(position: ListPosition) -> str:
    """The cursor that resumes a listing after ``position``."""
    payload = json.dumps([position.updated_at.isoformat(), position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> ListPosition:
    """The position a cursor stands for; ``InvalidRequest`` if it was not made by us."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        updated_at, conversation_id = json.loads(base64.urlsafe_b64decode(padded))
        return ListPosition(updated_at=datetime.fromisoformat(updated_at), id=str(conversation_id))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidRequest("cursor is not valid; use the next_cursor of a previous page") from error
