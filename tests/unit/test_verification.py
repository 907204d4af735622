"""Verified citations: each cited passage is scored against the sentences that cite it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botgpt.adapters.memory_documents import MemoryDocumentStore
from botgpt.domain.errors import EmbedderError
from botgpt.domain.fusion import HybridRetriever
from botgpt.domain.grounding import Source
from botgpt.domain.model import Chunk, ScoredChunk
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.sources import Grounding
from botgpt.domain.verification import (
    citing_sentences,
    content_words,
    cosine,
    lexical_support,
    numbers_in,
    numeric_agreement,
    strip_markers,
)
from tests.fakes import HashingEmbedder, ScriptedChatModel, WordCounter

TOWER = "The Eiffel Tower is 330 metres tall and was finished in 1889 for the World's Fair."
BREAD = "Sourdough bread rises with a starter culture instead of commercial yeast."


def test_sentences_keep_their_markers_even_after_the_full_stop() -> None:
    sentences = citing_sentences("The tower is 330 metres tall [1]. Bread uses a starter. [2]\nNo source here.")
    assert [(s.text, s.numbers) for s in sentences] == [
        ("The tower is 330 metres tall .", (1,)),
        ("Bread uses a starter.", (2,)),
        ("No source here.", ()),
    ]


def test_lexical_support_counts_the_sentences_content_words_found_in_the_passage() -> None:
    assert lexical_support("The Eiffel Tower is 330 metres tall", TOWER) == 1.0
    assert lexical_support("Sourdough needs a starter", TOWER) == 0.0
    assert lexical_support("the of and", TOWER) == 0.0  # nothing claimed, nothing supported
    assert "towers"[:6] in content_words("Towers")  # crude stemming: plural and singular meet


def test_numbers_are_read_whole_whatever_their_separators() -> None:
    assert numbers_in("It cost 1,200 dollars in 1889, or 3.5 times more.") == {"1200", "1889", "3.5"}
    assert numbers_in("No figures here.") == set()


def test_numeric_agreement_is_the_share_of_the_sentences_numbers_the_passage_states() -> None:
    assert numeric_agreement("It is 330 metres tall, finished in 1889.", TOWER) == 1.0
    assert numeric_agreement("It is 330 metres tall, finished in 1887.", TOWER) == 0.5
    assert numeric_agreement("It is tall.", TOWER) == 1.0  # nothing numeric claimed


def test_dropping_markers_leaves_clean_text() -> None:
    assert strip_markers("Tall [1]. Yeast [2][1].", [2]) == "Tall [1]. Yeast [1]."
    assert strip_markers("It is tall [2].", [2]) == "It is tall."


@given(st.text(max_size=200), st.lists(st.integers(1, 5), max_size=3))
def test_stripping_never_touches_the_markers_kept(answer: str, dropped: list[int]) -> None:
    kept = {n for n in range(1, 6) if n not in dropped}
    for number in kept:
        assert strip_markers(answer, dropped).count(f"[{number}]") == answer.count(f"[{number}]")


async def grounding(embedder: HashingEmbedder, **policy: object) -> Grounding:
    retrieval = RetrievalService(
        store=MemoryDocumentStore(), retriever=HybridRetriever((), depth=10, rrf_k=20), embedder=embedder
    )
    rules = ConversationPolicy(**policy)  # type: ignore[arg-type]
    return Grounding(retrieval, WordCounter(), rules, PromptBuilder(ScriptedChatModel(), WordCounter(), rules))


async def sources(embedder: HashingEmbedder) -> list[Source]:
    vectors = await embedder.embed([TOWER, BREAD])
    chunks = [Chunk(f"c{n}", f"d{n}", 0, 0, len(text), text, vectors[n]) for n, text in enumerate([TOWER, BREAD])]
    return [Source(n + 1, f"f{n}.txt", ScoredChunk(chunk, 0.5)) for n, chunk in enumerate(chunks)]


async def test_each_citation_carries_its_support_and_whether_it_passes() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder)
    answer = "The Eiffel Tower is 330 metres tall [1]. It was built from sourdough [2]."
    text, citations = await check.cite(answer, await sources(embedder))
    assert text == answer
    tower, bread = citations
    assert tower.supported is True and tower.support is not None and tower.support >= 0.9
    assert bread.supported is False and bread.support is not None and bread.support < 0.52


async def test_the_setting_drops_unsupported_citations_with_their_markers() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder, drop_unsupported_citations=True)
    answer = "The Eiffel Tower is 330 metres tall [1]. It was built from sourdough [2]."
    text, citations = await check.cite(answer, await sources(embedder))
    assert text == "The Eiffel Tower is 330 metres tall [1]. It was built from sourdough."
    assert [c.number for c in citations] == [1]


async def test_a_misquoted_figure_is_not_supported_by_the_passage_it_cites() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder)
    right, wrong = "The Eiffel Tower is 330 metres tall [1].", "The Eiffel Tower is 310 metres tall [1]."
    assert lexical_support(right, TOWER) - lexical_support(wrong, TOWER) < 0.2  # the words alone barely differ
    (quoted,) = (await check.cite(right, await sources(embedder)))[1]
    (misquoted,) = (await check.cite(wrong, await sources(embedder)))[1]
    assert quoted.supported is True
    assert misquoted.supported is False and misquoted.support is not None and misquoted.support < 0.52


async def test_an_answer_without_markers_lists_only_the_sources_that_support_it() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder)  # the unrelated source is left out even without the drop setting
    _, citations = await check.cite("Sourdough bread rises with a starter culture.", await sources(embedder))
    assert [(c.number, c.supported) for c in citations] == [(2, True)]


async def test_markers_that_name_no_source_are_removed_and_checked_as_no_markers() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder)
    answer = "[2] Sourdough bread rises with a starter culture [7]. The Eiffel Tower is 330 metres tall [9]."
    text, citations = await check.cite(answer, [*(await sources(embedder))[:1]])
    assert text == "Sourdough bread rises with a starter culture. The Eiffel Tower is 330 metres tall."
    assert [(c.number, c.supported) for c in citations] == [(1, True)]


async def test_a_citation_snippet_marks_the_sentence_that_supports_the_answer() -> None:
    embedder = HashingEmbedder()
    check = await grounding(embedder)
    filler = "Paris has many museums and a long river with bridges and boats. " * 3
    passage = filler + TOWER + " " + filler
    vector = (await embedder.embed([passage]))[0]
    source = Source(1, "paris.txt", ScoredChunk(Chunk("c", "d", 0, 0, len(passage), passage, vector), 0.5))
    (citation,) = (await check.cite("The Eiffel Tower is 330 metres tall [1].", [source]))[1]
    assert citation.snippet.startswith("…") and citation.snippet.endswith("…")
    assert citation.highlight_start is not None and citation.highlight_end is not None
    assert citation.snippet[citation.highlight_start : citation.highlight_end] == TOWER


@pytest.mark.parametrize("transient", [True, False])
async def test_a_failed_check_keeps_the_answer_and_leaves_it_unverified(transient: bool) -> None:
    embedder = HashingEmbedder()
    given_sources = await sources(embedder)
    embedder.fail_next(EmbedderError("down", transient=transient))
    check = await grounding(embedder, drop_unsupported_citations=True)
    answer = "It was built from sourdough [2]."
    text, citations = await check.cite(answer, given_sources)
    assert text == answer
    assert [(c.number, c.support, c.supported) for c in citations] == [(2, None, None)]


def test_vectors_that_cannot_be_compared_have_no_similarity() -> None:
    assert cosine([1.0, 0.0], [1.0, 0.0]) == 1.0
    assert cosine([1.0, 0.0], []) == 0.0  # a retriever plugin that leaves chunks without vectors
    assert cosine([0.0, 0.0], [1.0, 0.0]) == 0.0
