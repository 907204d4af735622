"""Grounded prompts: numbered sources within a token budget, and the citations they yield."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from botgpt.domain.model import Citation, ScoredChunk
from botgpt.ports.tokens import TokenCounter

SNIPPET_CHARS = 240
INSTRUCTION = (
    "Answer the question using the numbered sources below. "
    "Cite the sources you use like [1]. If they do not contain the answer, say so."
)
# An answer's citation marker, ``[n]``.
MARKER = re.compile(r"\[(\d{1,3})\]")


@attrs.frozen
class Source:
    """A retrieved chunk as numbered in the prompt."""

    number: int
    filename: str
    scored: ScoredChunk

    def render(self) -> str:
        return f"[{self.number}] ({self.filename}) {self.scored.chunk.text.strip()}"


def select_sources(
    retrieved: Sequence[ScoredChunk], filenames: Mapping[str, str], budget: int, tokens: TokenCounter
) -> list[Source]:
    """The best chunks, in rank order, whose rendered text fits ``budget`` tokens."""
    sources: list[Source] = []
    spent = 0
    for scored in retrieved:
        source = Source(len(sources) + 1, filenames.get(scored.chunk.document_id, ""), scored)
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
    """The sources the answer cites with [n]; all sources given if it cites none.

    Only sources retrieved for this turn can be cited: markers outside 1..n are ignored.
    """
    by_number = {source.number: source for source in sources}
    cited = [by_number[n] for n in dict.fromkeys(int(m) for m in MARKER.findall(answer)) if n in by_number]
    return tuple(_citation(source) for source in (cited or sources))


def _citation(source: Source) -> Citation:
    chunk = source.scored.chunk
    return Citation(
        document_id=chunk.document_id,
        filename=source.filename,
        chunk_id=chunk.id,
        start=chunk.start,
        end=chunk.end,
        score=round(source.scored.score, 6),
        snippet=chunk.text.strip()[:SNIPPET_CHARS],
        number=source.number,
    )
