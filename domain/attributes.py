"""Document attributes: a few user-set key–value pairs, bounded so that they stay metadata."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from botgpt.domain.errors import InvalidRequest
from botgpt.domain.model import AttributeValue

MAX_KEYS = 16
MAX_KEY_CHARS = 64
MAX_STRING_CHARS = 512


def checked_attributes(raw: Any) -> dict[str, AttributeValue]:
    """``raw`` as attributes: at most 16 keys of 1 to 64 characters, each value a string of at
    most 512 characters, a finite number or a boolean; ``InvalidRequest`` naming the problem."""
    if not isinstance(raw, Mapping):
        raise InvalidRequest("attributes must be an object of keys and values")
    if len(raw) > MAX_KEYS:
        raise InvalidRequest(f"attributes may hold at most {MAX_KEYS} keys; got {len(raw)}")
    return {_key(key): _value(key, value) for key, value in raw.items()}


def _key(key: Any) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS or not key.isprintable():
        raise InvalidRequest(f"attribute keys must be 1 to {MAX_KEY_CHARS} printable characters; got {key!r:.80}")
    return key


def _value(key: str, value: Any) -> AttributeValue:
    if isinstance(value, bool | int) and not (isinstance(value, int) and abs(value) > 2**53):
        return value  # type: ignore[no-any-return]
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= MAX_STRING_CHARS:
        return value
    raise InvalidRequest(
        f"attribute {key!r} must be a string of at most {MAX_STRING_CHARS} characters, a finite number"
        " (integers within ±2^53) or a boolean"
    )
