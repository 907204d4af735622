"""Properties every registered chunker must have, third-party plugins included."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botgpt.domain.chunking import stream_chunks
from botgpt.entrypoints.settings import Settings
from botgpt.plugins.builtin.chunkers import SentenceChunker
from botgpt.plugins.manager import chunker_factories, plugin_manager
from botgpt.ports.ai import Chunker

CONFIG = Settings.load(environ={}).as_dict()
FACTORIES = chunker_factories(plugin_manager())
CHUNKERS = {name: factory(CONFIG) for name, factory in FACTORIES.items()}

words = st.sampled_from(["alpha", "beta", "gamma", "delta", "x", "Dr.", "end.", "why?", "wow!", "3.14", "é", "数据"])
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "? ", "  ", "\t"])
texts = st.lists(st.tuples(words, separators), max_size=400).map(lambda parts: "".join(w + s for w, s in parts))
any_text = st.one_of(texts, st.text(max_size=600))


def test_the_built_ins_are_registered() -> None:
    assert {"sentence", "tokens"} <= set(CHUNKERS)


@pytest.mark.parametrize("name", sorted(CHUNKERS))
@given(text=any_text)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_offsets_slice_back_to_the_chunk_text(name: str, text: str) -> None:
    for span in CHUNKERS[name].chunk(text):
        assert text[span.start : span.end] == span.text
        assert span.text.strip()


@pytest.mark.parametrize("name", sorted(CHUNKERS))
@given(text=any_text)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_chunks_cover_the_text_in_order(name: str, text: str) -> None:
    spans = CHUNKERS[name].chunk(text)
    starts = [span.start for span in spans]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(a.end <= b.end for a, b in itertools.pairwise(spans))
    covered = set()
    for span in spans:
        covered.update(range(span.start, span.end))
    uncovered = [i for i, character in enumerate(text) if not character.isspace() and i not in covered]
    assert not uncovered


@pytest.mark.parametrize("name", sorted(CHUNKERS))
@given(text=any_text)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_sizes_stay_within_bounds(name: str, text: str) -> None:
    chunker: Chunker = CHUNKERS[name]
    assert all(len(span.text) <= chunker.max_chars for span in chunker.chunk(text))


@pytest.mark.parametrize("name", sorted(CHUNKERS))
@given(text=texts, window=st.integers(min_value=64, max_value=400))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_streaming_in_windows_keeps_the_properties(name: str, text: str, window: int) -> None:
    chunker = CHUNKERS[name]
    segments = [text[i : i + 37] for i in range(0, len(text), 37)]
    spans = list(stream_chunks(segments, chunker, window_chars=window))
    covered = set()
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert len(span.text) <= chunker.max_chars
        covered.update(range(span.start, span.end))
    assert all(c.isspace() or i in covered for i, c in enumerate(text))


def test_sentence_chunks_break_at_sentence_ends() -> None:
    text = "First sentence here. Second one follows! Third? " * 20
    spans = SentenceChunker(max_chars=120).chunk(text)
    assert len(spans) > 1
    assert all(span.text.endswith((".", "!", "?")) for span in spans)


def test_token_windows_overlap() -> None:
    chunker = FACTORIES["tokens"]({**CONFIG, "chunk_tokens": 30, "chunk_overlap_tokens": 10})
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    spans = chunker.chunk(text)
    assert len(spans) > 2
    assert all(b.start < a.end for a, b in itertools.pairwise(spans))
