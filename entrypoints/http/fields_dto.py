"""Field types that carry their limits into the OpenAPI document.

The limits are the domain's (it checks them, with its own messages, for every entrypoint);
here they are only described, through ``extra_json_schema``, so that the document says which
requests are valid and clients (and schemathesis) can tell before they send.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from botgpt.domain.attributes import MAX_KEY_CHARS, MAX_KEYS, MAX_STRING_CHARS
from botgpt.domain.collections import MAX_DESCRIPTION_CHARS, MAX_DOCUMENTS_PER_CALL, MAX_NAME_CHARS
from botgpt.domain.filters import COMPARISONS, COMPOUNDS, MAX_IN_VALUES
from botgpt.domain.paging import MAX_OFFSET, MAX_PAGE_SIZE
from botgpt.domain.retrieval import MAX_K, MAX_QUERY_CHARS

ID_PATTERN = "^[0-9a-f]{32}$"
# Text that is not blank: the domain strips it before checking.
NOT_BLANK = r"\S"


def described(**schema: Any) -> msgspec.Meta:
    """Document ``schema`` (JSON Schema keywords) on a field without changing its validation."""
    return msgspec.Meta(extra_json_schema=schema)


Id = Annotated[str, described(pattern=ID_PATTERN, description="An id: 32 lowercase hex characters")]
UserId = Annotated[
    str,
    described(
        pattern=NOT_BLANK,
        description="Who the request acts for. With an API key: the key's user, or leave it out.",
    ),
]
Limit = Annotated[int, described(minimum=1, maximum=MAX_PAGE_SIZE)]
Offset = Annotated[int, described(minimum=0, maximum=MAX_OFFSET)]
MessageText = Annotated[str, described(minLength=1, pattern=NOT_BLANK)]
Title = Annotated[str, described(minLength=1, maxLength=200, pattern=NOT_BLANK)]
Query = Annotated[str, described(minLength=1, maxLength=MAX_QUERY_CHARS, pattern=NOT_BLANK)]
K = Annotated[int, described(minimum=1, maximum=MAX_K)]
Name = Annotated[str, described(minLength=1, maxLength=MAX_NAME_CHARS, pattern=NOT_BLANK)]
Description = Annotated[str, described(maxLength=MAX_DESCRIPTION_CHARS)]
# Sampling, as OpenAI's chat completions take it (validated here: the domain only caps them).
MaxTokens = Annotated[int, msgspec.Meta(ge=1, description="At most this many answer tokens (the server caps it)")]
Temperature = Annotated[float, msgspec.Meta(ge=0.0, le=2.0)]
TopP = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
StopText = Annotated[str, msgspec.Meta(min_length=1)]
Stops = Annotated[list[StopText], msgspec.Meta(max_length=4)]
DocumentIds = Annotated[list[Id], described(minItems=1, maxItems=MAX_DOCUMENTS_PER_CALL)]

_SCALAR = [
    {"type": "string", "maxLength": MAX_STRING_CHARS},
    {"type": "number"},
    {"type": "boolean"},
]
ATTRIBUTES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "maxProperties": MAX_KEYS,
    "propertyNames": {"minLength": 1, "maxLength": MAX_KEY_CHARS, "pattern": "^[ -~]+$"},
    "additionalProperties": {"anyOf": _SCALAR},
    "description": f"Up to {MAX_KEYS} keys of printable characters; string, number or boolean values.",
}
Attributes = Annotated[dict[str, Any], described(**ATTRIBUTES_SCHEMA)]


def _comparison(types: tuple[str, ...], value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "type": {"enum": list(types)},
            "key": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_CHARS},
            "value": value,
        },
        "required": ["type", "key", "value"],
        "additionalProperties": False,
    }


_IN_LIST = {"type": "array", "items": {"anyOf": _SCALAR}, "minItems": 1, "maxItems": MAX_IN_VALUES}
_COMPARISONS = [
    _comparison(("eq", "ne"), {"anyOf": _SCALAR}),
    _comparison(tuple(c for c in COMPARISONS if c not in ("eq", "ne", "in")), {"type": "number"}),
    _comparison(("in",), _IN_LIST),
]
_COMPARISON = {"anyOf": _COMPARISONS}
FILTER_SCHEMA: dict[str, Any] = {
    "description": (
        "OpenAI's attribute filter: a comparison `{type: eq|ne|gt|gte|lt|lte|in, key, value}` "
        "(gt…lte take numbers, `in` a list) or a compound `{type: and|or, filters: [...]}`."
    ),
    "anyOf": [
        *_COMPARISONS,
        {
            "type": "object",
            "properties": {
                "type": {"enum": list(COMPOUNDS)},
                "filters": {"type": "array", "items": _COMPARISON, "minItems": 1},
            },
            "required": ["type", "filters"],
            "additionalProperties": False,
        },
    ],
}
Filters = Annotated[dict[str, Any], described(**FILTER_SCHEMA)]
ParentId = Annotated[
    str,
    described(
        pattern="^([0-9a-f]{32}|root)$",
        description='An earlier assistant message to branch after, or "root" to edit the first message',
    ),
]
