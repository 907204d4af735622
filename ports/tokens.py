"""Token counting port."""

from __future__ import annotations

from typing import Protocol


class TokenCounter(Protocol):
    """Counts tokens the way the budget is kept. Counting must be pure and fast."""

    def count(self, text: str) -> int:
        """How many tokens ``text`` encodes to."""
        ...
