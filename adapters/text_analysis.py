"""The lexical analysis every built-in index shares: lower-case words, English stop words
dropped, Snowball-stemmed. One analyzer, so that BM25 means the same in each engine."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from botgpt.domain.text import STOPWORDS

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _stemmer() -> Callable[[str], str]:
    try:
        import snowballstemmer
    except ImportError:
        return lambda word: word
    stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord  # type: ignore[no-any-return]


@attrs.frozen
class Analyzer:
    """Lower-case words, English stop words dropped, Snowball-stemmed."""

    stem: Callable[[str], str] = attrs.field(factory=_stemmer)

    def terms(self, text: str) -> list[str]:
        return [self.stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
