"""Snippets of cited passages: cut at word boundaries, with ellipses, the support marked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from botgpt.domain.grounding import Source, select_sources
from botgpt.domain.model import Chunk, ScoredChunk
from botgpt.domain.snippets import ELLIPSIS, SNIPPET_CHARS, snippet_of
from tests.fakes import WordCounter

LONG = " ".join(f"word{n}" for n in range(200))


def test_a_long_passage_is_cut_between_words_with_an_ellipsis() -> None:
    snippet = snippet_of(LONG)
    assert snippet.text.endswith(ELLIPSIS) and not snippet.text.startswith(ELLIPSIS)
    shown = snippet.text.removesuffix(ELLIPSIS).split()
    assert shown == LONG.split()[: len(shown)]  # whole words only, the last one included
    assert len(snippet.text) <= SNIPPET_CHARS + 1
    assert snippet.highlight is None


def test_a_short_passage_is_shown_whole() -> None:
    assert snippet_of("  Short and sweet.  ").text == "Short and sweet."


def test_the_window_centres_on_the_supporting_sentence() -> None:
    claim = "Basalt columns form when lava cools slowly."
    passage = LONG + ". " + claim + " " + LONG
    snippet = snippet_of(passage, "Lava cooling slowly forms basalt columns")
    assert snippet.highlight is not None
    assert snippet.text[snippet.highlight[0] : snippet.highlight[1]] == claim
    assert snippet.text.startswith(ELLIPSIS) and snippet.text.endswith(ELLIPSIS)


@given(st.text(alphabet="ab .\\n", max_size=600), st.text(alphabet="ab .", max_size=40))
def test_a_snippet_is_bounded_and_its_highlight_lies_inside_it(passage: str, claim: str) -> None:
    snippet = snippet_of(passage, claim)
    assert len(snippet.text) <= SNIPPET_CHARS + 2 * len(ELLIPSIS)
    if snippet.highlight is not None:
        start, end = snippet.highlight
        assert 0 <= start < end <= len(snippet.text)


def test_relevance_is_the_score_over_the_best_in_0_to_1() -> None:
    hits = [ScoredChunk(Chunk(f"c{n}", "d", n, 0, 1, f"text {n}"), score) for n, score in enumerate([3.0, 1.5])]
    sources: list[Source] = select_sources(hits, {"d": "f.txt"}, budget=100, tokens=WordCounter())
    assert [source.relevance for source in sources] == [1.0, 0.5]
