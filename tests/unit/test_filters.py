"""Attribute filters: OpenAI's shape, strict comparisons, and errors that name the problem."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botgpt.domain.attributes import checked_attributes
from botgpt.domain.errors import InvalidFilter, InvalidRequest
from botgpt.domain.filters import MAX_CONDITIONS, MAX_DEPTH, matching, parse_filter

DOC = {"year": 2025, "team": "hr", "draft": False, "score": 0.5}


def matches(raw: dict[str, Any], attributes: dict[str, Any] = DOC) -> bool:
    return parse_filter(raw).matches(attributes)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "eq", "key": "team", "value": "hr"}, True),
        ({"type": "eq", "key": "year", "value": 2025.0}, True),  # numbers compare as numbers
        ({"type": "eq", "key": "year", "value": "2025"}, False),  # a string is not a number
        ({"type": "eq", "key": "draft", "value": 0}, False),  # a boolean is not a number
        ({"type": "ne", "key": "draft", "value": True}, True),
        ({"type": "gt", "key": "year", "value": 2024}, True),
        ({"type": "lte", "key": "score", "value": 0.5}, True),
        ({"type": "lt", "key": "team", "value": 3}, False),  # ordering a string: no match
        ({"type": "in", "key": "team", "value": ["it", "hr"]}, True),
        ({"type": "in", "key": "year", "value": ["2025"]}, False),
        ({"type": "eq", "key": "missing", "value": 1}, False),
        ({"type": "ne", "key": "missing", "value": 1}, True),  # a missing key differs from any value
        ({"type": "gte", "key": "missing", "value": 1}, False),
    ],
)
def test_comparisons(raw: dict[str, Any], expected: bool) -> None:
    assert matches(raw) is expected


comparisons = st.builds(
    lambda key, kind, value: {"type": kind, "key": key, "value": value},
    st.sampled_from(["year", "team", "missing"]),
    st.sampled_from(["eq", "ne", "gt", "lt"]),
    st.integers(2020, 2030),
)


@given(st.lists(comparisons, min_size=1, max_size=6))
def test_and_is_all_and_or_is_any(parts: list[dict[str, Any]]) -> None:
    each = [matches(part) for part in parts]
    assert matches({"type": "and", "filters": parts}) is all(each)
    assert matches({"type": "or", "filters": parts}) is any(each)


def test_matching_returns_the_ids_whose_attributes_match() -> None:
    found = matching(
        parse_filter({"type": "eq", "key": "team", "value": "hr"}), {"a": DOC, "b": {}, "c": {"team": "x"}}
    )
    assert found == {"a"}


def nested(depth: int) -> dict[str, Any]:
    leaf: dict[str, Any] = {"type": "eq", "key": "a", "value": 1}
    for _ in range(depth):
        leaf = {"type": "and", "filters": [leaf]}
    return leaf


def test_bounds_on_depth_and_size() -> None:
    assert parse_filter(nested(MAX_DEPTH))
    with pytest.raises(InvalidFilter, match="nest at most"):
        parse_filter(nested(MAX_DEPTH + 1))
    many = {"type": "or", "filters": [{"type": "eq", "key": "a", "value": n} for n in range(MAX_CONDITIONS + 1)]}
    with pytest.raises(InvalidFilter, match="at most 50 comparisons"):
        parse_filter(many)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([], "filters must be an object"),
        ({"type": "eq", "key": "", "value": 1}, "filters.key must be a string"),
        ({"type": "eq", "key": "a", "value": float("nan")}, "finite number"),
        ({"type": "in", "key": "a", "value": [1, [2]]}, "filters.value[1] must be"),
        ({"type": "or", "filters": [{"type": "eq", "key": "a", "value": 1}, "x"]}, "filters.filters[1] must be"),
    ],
)
def test_invalid_filters_name_the_place(raw: Any, says: str) -> None:
    with pytest.raises(InvalidFilter, match=r".*" + says.replace("[", r"\[").replace("]", r"\]")):
        parse_filter(raw)


def test_attributes_are_bounded() -> None:
    assert checked_attributes({"year": 2025, "ok": True, "name": "x" * 512, "f": 0.25}) == {
        "year": 2025,
        "ok": True,
        "name": "x" * 512,
        "f": 0.25,
    }
    for bad in ({"k": None}, {"k": "x" * 513}, {"k": float("inf")}, {"": 1}, {"k" * 65: 1}, {"k": 2**60}, []):
        with pytest.raises(InvalidRequest):
            checked_attributes(bad)
    with pytest.raises(InvalidRequest, match="at most 16 keys"):
        checked_attributes({f"k{n}": n for n in range(17)})
