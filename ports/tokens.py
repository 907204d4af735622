"""Token counting port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TokenCounter(Protocol):
    """Counts tokens the way the budget is kept. Counting must be pure and fast."""

    def count(self, text: str) -> int:
        """How many tokens ``text`` encodes to."""
        ...


class TokenCodec(TokenCounter, Protocol):
    """A token counter that can also turn token ids back into text (OpenAI's APIs take either)."""

    def decode(self, tokens: Sequence[int]) -> str:
        """The text of ``tokens``; ``ValueError`` when one is not a token of the encoding."""
        ...
