"""Attribute filters in OpenAI's vector-store shape, checked once and evaluated in the domain.

A comparison is ``{"type": "eq", "key": "year", "value": 2025}`` with ``type`` one of ``eq``,
``ne``, ``gt``, ``gte``, ``lt``, ``lte`` or ``in`` (``value`` a list); a compound filter is
``{"type": "and" | "or", "filters": [...]}``. Values are compared without coercion: the string
``"2025"`` is not the number ``2025``, and ``true`` is not ``1``. Ordering comparisons take
numbers. A document without the key matches only ``ne``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from botgpt.domain.attributes import MAX_KEY_CHARS, MAX_STRING_CHARS
from botgpt.domain.errors import InvalidFilter
from botgpt.domain.model import AttributeValue

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in")
COMPOUNDS = ("and", "or")
MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_IN_VALUES = 100

_ORDER: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


@attrs.frozen
class Comparison:
    """One attribute compared with a value."""

    type: str
    key: str
    value: AttributeValue | tuple[AttributeValue, ...]

    def matches(self, attributes: Mapping[str, AttributeValue]) -> bool:
        if self.key not in attributes:
            return self.type == "ne"
        actual = attributes[self.key]
        if self.type == "eq":
            return _same(actual, self.value)
        if self.type == "ne":
            return not _same(actual, self.value)
        if self.type == "in":
            assert isinstance(self.value, tuple)
            return any(_same(actual, option) for option in self.value)
        return _is_number(actual) and _ORDER[self.type](float(actual), float(self.value))  # type: ignore[arg-type]


@attrs.frozen
class Compound:
    """Filters joined by ``and`` or ``or``."""

    type: str
    filters: tuple[Comparison | Compound, ...]

    def matches(self, attributes: Mapping[str, AttributeValue]) -> bool:
        results = (part.matches(attributes) for part in self.filters)
        return all(results) if self.type == "and" else any(results)


Filter = Comparison | Compound


def _same(actual: Any, expected: Any) -> bool:
    """Equal, and of the same kind: a boolean equals only a boolean, a number only a number."""
    return _kind(actual) == _kind(expected) and actual == expected


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_filter(raw: Any) -> Filter:
    """The filter ``raw`` (plain JSON) describes; ``InvalidFilter`` naming the first problem."""
    counter = [0]
    return _parse(raw, "filters", 1, counter)


def _parse(raw: Any, where: str, depth: int, counter: list[int]) -> Filter:
    if not isinstance(raw, Mapping):
        raise InvalidFilter(f"{where} must be an object with a `type`")
    kind = raw.get("type")
    if kind in COMPOUNDS:
        return _compound(raw, where, depth, counter)
    if kind in COMPARISONS:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise InvalidFilter(f"a filter may hold at most {MAX_CONDITIONS} comparisons")
        return _comparison(raw, where)
    if kind is None:
        raise InvalidFilter(f"{where}.type is required: one of {', '.join(COMPARISONS + COMPOUNDS)}")
    raise InvalidFilter(f"{where}.type must be one of {', '.join(COMPARISONS + COMPOUNDS)}; got {kind!r}")


def _compound(raw: Mapping[str, Any], where: str, depth: int, counter: list[int]) -> Compound:
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"filters may nest at most {MAX_DEPTH} levels deep")
    _only_keys(raw, {"type", "filters"}, where)
    parts = raw.get("filters")
    if not isinstance(parts, list) or not parts:
        raise InvalidFilter(f"{where}.filters must be a non-empty list")
    parsed = tuple(_parse(part, f"{where}.filters[{n}]", depth + 1, counter) for n, part in enumerate(parts))
    return Compound(raw["type"], parsed)


def _comparison(raw: Mapping[str, Any], where: str) -> Comparison:
    _only_keys(raw, {"type", "key", "value"}, where)
    key, kind = raw.get("key"), raw["type"]
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_CHARS:
        raise InvalidFilter(f"{where}.key must be a string of 1 to {MAX_KEY_CHARS} characters")
    if "value" not in raw:
        raise InvalidFilter(f"{where}.value is required")
    value = raw["value"]
    if kind == "in":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_IN_VALUES:
            raise InvalidFilter(f"{where}.value must be a list of 1 to {MAX_IN_VALUES} values for `in`")
        return Comparison(kind, key, tuple(_scalar(v, f"{where}.value[{n}]") for n, v in enumerate(value)))
    if kind in _ORDER and not _is_number(value):
        raise InvalidFilter(f"{where}.value must be a number for `{kind}`")
    return Comparison(kind, key, _scalar(value, f"{where}.value"))


def _scalar(value: Any, where: str) -> AttributeValue:
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and len(value) <= MAX_STRING_CHARS:
        return value
    raise InvalidFilter(f"{where} must be a string (up to {MAX_STRING_CHARS} characters), a finite number or a boolean")


def _only_keys(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidFilter(f"{where} has unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def matching(filter_: Filter, attributes: Mapping[str, Mapping[str, AttributeValue]]) -> set[str]:
    """The ids (keys of ``attributes``) whose attributes the filter matches."""
    return {key for key, values in attributes.items() if filter_.matches(values)}
