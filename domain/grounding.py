"""Grounded prompts: numbered sources within a token budget, and the citations they yield."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from botgpt.domain.markers import MARKER, marker_numbers
from botgpt.domain.model import Citation, ScoredChunk
from botgpt.domain.snippets import snippet_of
from botgpt.ports.tokens import TokenCounter

__all__ = ["MARKER", "Source", "citations_for", "grounded_text", "select_sources"]
INSTRUCTION = (
    "Answer the question using the numbered sources below. "
    "Cite the sources you use like [1]. If they do not contain the answer, say so."
)


@attrs.frozen
class Source:
    """A retrieved chunk as numbered in the prompt. ``relevance`` is its retrieval score over
    the best one retrieved for the same question: 1.0 for the best passage found, in 0..1."""

    number: int
    filename: str
    scored: ScoredChunk
    relevance: float = 1.0

    def render(self) -> str:
        return f"[{self.number}] ({self.filename}) {self.scored.chunk.text.strip()}"


def select_sources(
    retrieved: Sequence[ScoredChunk], filenames: Mapping[str, str], budget: int, tokens: TokenCounter
) -> list[Source]:
    """The best chunks, in rank order, whose rendered text fits ``budget`` tokens."""
    sources: list[Source] = []
    spent = 0
    best = max((scored.score for scored in retrieved), default=0.0)
    for scored in retrieved:
        relevance = min(1.0, max(0.0, scored.score / best)) if best > 0 else 0.0
        source = Source(len(sources) + 1, filenames.get(scored.chunk.document_id, ""), scored, relevance)
        cost = tokens.count(source.render()) + 2
        if spent + cost > budget:
            break
        sources.append(source)
        spent += cost
    return sources


def grounded_text(question: str, sources: Sequence[Source]) -> str:
    """The final user turn: instruction, sources, then the question.

    Sources go in the last turn, not the system prompt, so the prompt's prefix (system prompt
    and history) is the same from turn to turn and the model's KV cache stays reusable.
    """
    rendered = "\n\n".join(source.render() for source in sources)
    return f"{INSTRUCTION}\n\nSources:\n{rendered}\n\nQuestion: {question}"


def citations_for(answer: str, sources: Sequence[Source]) -> tuple[Citation, ...]:
    """The sources the answer cites with [n]; all sources given if it cites none (the caller
    then keeps those whose support passes the check).

    Only sources retrieved for this turn can be cited: markers outside 1..n are ignored.
    """
    by_number = {source.number: source for source in sources}
    cited = [by_number[n] for n in marker_numbers(answer) if n in by_number]
    return tuple(_citation(source) for source in (cited or sources))


def _citation(source: Source) -> Citation:
    chunk = source.scored.chunk
    return Citation(
        document_id=chunk.document_id,
        filename=source.filename,
        chunk_id=chunk.id,
        start=chunk.start,
        end=chunk.end,
        score=round(source.relevance, 4),
        snippet=snippet_of(chunk.text).text,
        number=source.number,
    )
