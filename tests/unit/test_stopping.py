"""Stop sequences cut answers, also when they arrive split across pieces; the engine reads them."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botgpt.adapters.engine_server import job_of
from botgpt.domain.model import Completion, FinishReason
from botgpt.domain.stopping import StopScanner, cut_at_stops, stop_at


def scanned(pieces: list[str], stops: tuple[str, ...]) -> str:
    scanner = StopScanner(stops)
    text = "".join(scanner.feed(piece) for piece in pieces)
    return text + ("" if scanner.stopped else scanner.flush())


@given(
    text=st.text(alphabet="ab.\n", max_size=40),
    stops=st.lists(st.text(alphabet="ab.\n", min_size=1, max_size=3), min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 40), max_size=6),
)
def test_any_split_cuts_where_the_whole_text_would(text: str, stops: list[str], cuts: list[int]) -> None:
    bounds = sorted({0, len(text), *(min(c, len(text)) for c in cuts)})
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    first = min((i for s in stops if (i := text.find(s)) >= 0), default=len(text))
    assert scanned(pieces, tuple(stops)) == text[:first] == cut_at_stops(text, stops)


def test_a_stop_split_across_pieces_is_caught() -> None:
    assert scanned(["Hello wor", "ld. Bye"], ("world",)) == "Hello "
    assert scanned(["Hello wor", "k. Bye"], ("world",)) == "Hello work. Bye"


async def test_a_stream_cut_at_a_stop_keeps_the_usage() -> None:
    async def events() -> AsyncIterator[str | Completion]:
        for piece in ["One", " two", ".", " three"]:
            yield piece
        yield Completion("One two. three", "m", 3, 4, FinishReason.LENGTH)

    out = [event async for event in stop_at(events(), ["."])]
    assert out[:-1] == ["One", " two"]
    assert out[-1] == Completion("One two", "m", 3, 4, FinishReason.STOP)


def test_the_engine_reads_every_option() -> None:
    request: dict[str, Any] = {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 5,
        "temperature": 0.5,
        "top_p": 0.8,
        "seed": 3,
        "stop": ["."],
    }
    job = job_of(request, lambda event: None)
    assert (job.max_tokens, job.temperature, job.top_p, job.seed, job.stop) == (5, 0.5, 0.8, 3, (".",))
    bare = job_of({**request, "top_p": None, "seed": None, "stop": []}, lambda event: None)
    assert (bare.top_p, bare.seed, bare.stop) == (None, None, ())


@pytest.mark.parametrize("stop", ["x", [""], [1]])
def test_the_engine_refuses_malformed_stops(stop: object) -> None:
    with pytest.raises(ValueError):
        job_of({"messages": [], "max_tokens": 1, "temperature": 0, "stop": stop}, lambda event: None)
