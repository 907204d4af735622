"""The ``[n]`` markers by which an answer cites the numbered sources of its prompt."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d{1,3})\]")


def marker_numbers(text: str) -> list[int]:
    """The numbers the text's markers name, in first-seen order, each once."""
    return list(dict.fromkeys(int(n) for n in MARKER.findall(text)))
