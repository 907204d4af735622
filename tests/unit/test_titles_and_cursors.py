from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botgpt.domain.cursors import decode_cursor, encode_cursor
from botgpt.domain.errors import InvalidRequest
from botgpt.domain.model import ListPosition
from botgpt.domain.titles import UNTITLED, clean_model_title, title_from_message


def test_title_is_the_first_line_folded() -> None:
    assert title_from_message("\n  How do   I\tbake bread?\nDetails follow") == "How do I bake bread?"


def test_long_title_is_cut_at_a_word() -> None:
    title = title_from_message("word " * 40)
    assert title.endswith("…") and len(title) <= 60 and "wor…" not in title


def test_blank_message_gets_a_placeholder_title() -> None:
    assert title_from_message("   ") == UNTITLED


@pytest.mark.parametrize(("raw", "expected"), [('Title: "Bread"', "Bread"), ("**Soup**\nmore", "Soup"), ("  ", None)])
def test_model_titles_are_cleaned(raw: str, expected: str | None) -> None:
    assert clean_model_title(raw) == expected


@given(st.text(max_size=300))
def test_titles_are_bounded(text: str) -> None:
    assert 0 < len(title_from_message(text)) <= 60


@given(st.datetimes(timezones=st.just(UTC)), st.text(min_size=1, max_size=40))
def test_cursor_round_trips(moment: datetime, identifier: str) -> None:
    position = ListPosition(moment, identifier)
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("garbage", ["x", "!!!", "eyJhIjoxfQ", "W10"])
def test_foreign_cursors_are_invalid_requests(garbage: str) -> None:
    with pytest.raises(InvalidRequest):
        decode_cursor(garbage)


def test_the_ordering_clock_is_strictly_increasing_and_the_wall_clock_is_real() -> None:
    from botgpt.domain.clock import UtcClock, wall_now

    clock = UtcClock()
    readings = [clock() for _ in range(50)]
    assert all(a < b for a, b in itertools.pairwise(readings))
    assert all(r.microsecond % 1000 == 0 for r in readings)
    assert abs((wall_now() - datetime.now(UTC)).total_seconds()) < 1
