"""A chunker that keeps paragraphs whole: one span per paragraph, split at blank lines."""

from __future__ import annotations

import re

import attrs

from botgpt.domain.model import ChunkSpan

BLANK_LINE = re.compile(r"\n\s*\n")


@attrs.frozen
class ParagraphChunker:
    """One span per paragraph; a paragraph longer than ``max_chars`` is cut into pieces."""

    name: str = "paragraphs"
    max_chars: int = 2000

    def chunk(self, text: str) -> list[ChunkSpan]:
        spans: list[ChunkSpan] = []
        start = 0
        for end in [*(match.start() for match in BLANK_LINE.finditer(text)), len(text)]:
            for piece in range(start, end, self.max_chars):
                spans.extend(trimmed(text, piece, min(end, piece + self.max_chars)))
            start = end
        return spans


def trimmed(text: str, start: int, end: int) -> list[ChunkSpan]:
    """The span of ``text[start:end]`` without its outer whitespace; none if that is all it holds."""
    piece = text[start:end]
    kept = piece.strip()
    if not kept:
        return []
    begin = start + len(piece) - len(piece.lstrip())
    return [ChunkSpan(begin, begin + len(kept), kept)]
