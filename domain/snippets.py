"""A cited passage's snippet: a window of the passage around the sentence that supports the
answer, cut at word boundaries, with ellipses where it was cut, and that sentence marked."""

from __future__ import annotations

import re

import attrs

from botgpt.domain.verification import lexical_support

SNIPPET_CHARS = 240
ELLIPSIS = "…"
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


@attrs.frozen
class Snippet:
    """The snippet's text, and the supporting sentence's span in it (None: nothing marked)."""

    text: str
    highlight: tuple[int, int] | None = None


def passage_sentences(passage: str) -> list[tuple[int, int]]:
    """The spans of the passage's sentences, without their surrounding spaces."""
    spans = []
    for match in _SENTENCE.finditer(passage):
        piece = match.group()
        start = match.start() + len(piece) - len(piece.lstrip())
        end = match.start() + len(piece.rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def supporting_span(passage: str, claim: str) -> tuple[int, int] | None:
    """The passage sentence that states most of the claim's content words; None if none does."""
    scored = [(lexical_support(claim, passage[start:end]), (start, end)) for start, end in passage_sentences(passage)]
    best = max(scored, default=(0.0, None), key=lambda pair: pair[0])
    return best[1] if best[0] > 0 else None


def snippet_of(passage: str, claim: str | None = None, limit: int = SNIPPET_CHARS) -> Snippet:
    """At most ``limit`` characters of the passage (plus ellipses), centred on the sentence
    that supports ``claim`` when there is one, else from the start."""
    text = passage.strip()
    span = supporting_span(text, claim) if claim else None
    start, end = _window(len(text), span, limit)
    start, end = _at_word_boundaries(text, start, end)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    shown = prefix + text[start:end].strip() + suffix
    return Snippet(shown, _shifted(span, start, end, len(prefix), text))


def _window(length: int, span: tuple[int, int] | None, limit: int) -> tuple[int, int]:
    if length <= limit:
        return 0, length
    if span is None:
        return 0, limit
    slack = max(0, (limit - (span[1] - span[0])) // 2)
    start = min(max(0, span[0] - slack), length - limit)
    return start, start + limit


def _at_word_boundaries(text: str, start: int, end: int) -> tuple[int, int]:
    # A cut inside a word moves inwards, so that the snippet never grows past its limit.
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, end)
        start = space + 1 if space != -1 else start
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def _shifted(span: tuple[int, int] | None, start: int, end: int, offset: int, text: str) -> tuple[int, int] | None:
    if span is None:
        return None
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    first = max(span[0], start) - start - lead + offset
    last = min(span[1], end) - start - lead + offset
    return (first, last) if last > first else None
