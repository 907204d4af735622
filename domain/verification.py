"""Verified citations: does the passage an answer cites as [n] support the sentence that cites it?

A sentence's support by a passage blends two signals, each in 0..1:
- lexical: the share of the sentence's content words found in the passage (crudely stemmed);
- semantic: the cosine of the sentence's and the passage's embeddings, below zero counted as zero.

Both are topical: a sentence that states a wrong figure shares nearly every word with the
passage it misquotes. So the blend is then multiplied by the share of the sentence's numbers
that the passage states.

Pure functions; the ``Grounding`` service embeds the sentences and calls them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import attrs

from botgpt.domain.markers import MARKER
from botgpt.domain.model import Chunk
from botgpt.domain.text import STOPWORDS

_LEADING_MARKER = re.compile(r"(?m)^\[(\d{1,3})\][ \t]*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# 1,200 and 1200 are one number; 3.5 is not 3 and 5. A trailing full stop is punctuation.
_NUMBER = re.compile(r"\d+(?:[,.]\d+)*")
STEM_CHARS = 6
# Beside function words, the words answers use to frame a claim carry no evidence either.
FRAMING = frozenset(
    [
        "answer",
        "based",
        "according",
        "source",
        "sources",
        "question",
        "provided",
        "information",
        "text",
        "also",
        "about",
    ]
)
IGNORED = STOPWORDS | FRAMING


@attrs.frozen
class SupportWeights:
    """How lexical overlap and embedding similarity blend into one score.

    Calibrated on XQuAD (``bench/citation_calibration.py``): lexical overlap separates
    supporting from on-topic but unsupporting passages far better (AUC 0.985 against 0.886).
    """

    lexical: float = 0.9
    semantic: float = 0.1


@attrs.frozen
class CitingSentence:
    """One sentence of an answer, without its markers, and the source numbers it cites."""

    text: str
    numbers: tuple[int, ...]


def citing_sentences(answer: str) -> list[CitingSentence]:
    """The answer's sentences with the ``[n]`` markers each one carries (possibly none)."""
    sentences = []
    for piece in _SENTENCE_END.split(answer):
        numbers = tuple(dict.fromkeys(int(n) for n in MARKER.findall(piece)))
        text = " ".join(MARKER.sub(" ", piece).split())
        if text or numbers:
            sentences.append(CitingSentence(text, numbers))
    return _markers_after_the_full_stop(sentences)


def _markers_after_the_full_stop(sentences: list[CitingSentence]) -> list[CitingSentence]:
    # "... is 330 metres tall. [1]" puts the marker in a piece of its own after the sentence.
    merged: list[CitingSentence] = []
    for sentence in sentences:
        if merged and sentence.numbers and not content_words(sentence.text):
            previous = merged.pop()
            sentence = CitingSentence(previous.text, tuple(dict.fromkeys(previous.numbers + sentence.numbers)))
        merged.append(sentence)
    return [sentence for sentence in merged if sentence.text]


def content_words(text: str) -> set[str]:
    """Lower-cased, crudely stemmed words that carry meaning (numbers included)."""
    words = (word.lower() for word in _WORD.findall(text))
    return {word[:STEM_CHARS] for word in words if word not in IGNORED and (len(word) > 2 or word.isdigit())}


def lexical_support(sentence: str, passage: str) -> float:
    """The share of the sentence's content words that the passage contains."""
    claimed = content_words(sentence)
    if not claimed:
        return 0.0
    return len(claimed & content_words(passage)) / len(claimed)


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, thousands separators removed: ``"1,200 and 3.5"`` -> {"1200", "3.5"}."""
    return {re.sub(r",(?=\d{3}\b)", "", number) for number in _NUMBER.findall(text)}


def numeric_agreement(sentence: str, passage: str) -> float:
    """The share of the sentence's numbers that the passage states; 1 when it states none."""
    claimed = numbers_in(sentence)
    if not claimed:
        return 1.0
    return len(claimed & numbers_in(passage)) / len(claimed)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 for vectors that cannot be compared (a zero vector, or lengths that
    differ, as when a retriever plugin returns chunks without their vectors)."""
    if len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def support_score(lexical: float, similarity: float, weights: SupportWeights) -> float:
    """One score in 0..1 from the two signals."""
    total = weights.lexical + weights.semantic
    return (weights.lexical * lexical + weights.semantic * max(0.0, similarity)) / total


def sentence_support(sentence: str, vector: Sequence[float], chunk: Chunk, weights: SupportWeights) -> float:
    """How well ``chunk`` supports ``sentence`` (whose embedding is ``vector``): the blend of
    the two signals, times the share of the sentence's numbers the chunk states."""
    blend = support_score(lexical_support(sentence, chunk.text), cosine(vector, chunk.vector), weights)
    return blend * numeric_agreement(sentence, chunk.text)


def strip_markers(answer: str, numbers: Iterable[int]) -> str:
    """The answer without the ``[n]`` markers of ``numbers`` (and the spaces they leave)."""
    dropped = {str(n) for n in numbers}
    # A marker that opens a line takes its trailing space along; other indentation stays.
    answer = _LEADING_MARKER.sub(lambda m: "" if m.group(1) in dropped else m.group(0), answer)
    stripped = MARKER.sub(lambda m: "" if m.group(1) in dropped else m.group(0), answer)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", stripped))
