"""Vectors for a caller's own texts, from the configured embedder (OpenAI's ``/v1/embeddings``).

The vectors are the ones ingestion stores for the same text (``embed``, not a query prefix),
so that a client can compare its own texts with botgpt's passages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import attrs

from botgpt.domain.errors import InputTooLong, InvalidRequest
from botgpt.domain.model import Vector
from botgpt.ports.ai import Embedder
from botgpt.ports.tokens import TokenCodec

MAX_INPUTS = 2048  # OpenAI's cap on the inputs of one request
# OpenAI's embedding models read 8192 tokens; an embedder that states no window of its own is
# held to that, counted with botgpt's tokenizer.
DEFAULT_MAX_INPUT_TOKENS = 8192

# One input: a text, or token ids of the configured encoding.
EmbeddingInput = str | Sequence[int]


@attrs.frozen
class Embedded:
    """One vector per input, in order, and what the inputs cost in botgpt's tokens."""

    vectors: list[Vector]
    prompt_tokens: int


@attrs.define
class EmbeddingService:
    """Embeds a caller's inputs, as ingestion embeds chunks; on request, refuses any input the
    embedder would cut short."""

    embedder: Embedder
    tokens: TokenCodec

    @property
    def model(self) -> str:
        """The embedder's name: the ``model`` of every answer."""
        return self.embedder.name

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        return self.embedder.dimension

    async def embed(self, inputs: Sequence[EmbeddingInput], truncate: bool = True) -> Embedded:
        """Vectors for ``inputs`` (at most ``MAX_INPUTS``); ``InvalidRequest`` for an empty input
        or unknown token ids. An input past the embedder's own window is read up to it, as
        ingestion reads it, unless ``truncate`` is false: then it is ``InputTooLong``. An
        embedder that states no window is held to ``DEFAULT_MAX_INPUT_TOKENS`` either way."""
        if not inputs:
            raise InvalidRequest("input must hold at least one text")
        if len(inputs) > MAX_INPUTS:
            raise InvalidRequest(f"input holds {len(inputs)} items; at most {MAX_INPUTS} are embedded at once")
        # tiktoken is quick, but a request may carry a megabyte of text: count off the event loop.
        texts, counts = await asyncio.to_thread(self._read, inputs)
        # A text sent twice is embedded once (a batch of 2048 copies costs what one does).
        unique = list(dict.fromkeys(texts))
        await self._check_lengths(texts, unique, counts, truncate)
        vectors = dict(zip(unique, await self.embedder.embed(unique), strict=True))
        return Embedded([vectors[text] for text in texts], sum(counts))

    def _read(self, inputs: Sequence[EmbeddingInput]) -> tuple[list[str], list[int]]:
        texts, counts = [], []
        for index, item in enumerate(inputs):
            if isinstance(item, str):
                text, count = item, self.tokens.count(item)
            else:
                text, count = self._decoded(index, item), len(item)
            if not text:
                raise InvalidRequest(f"input[{index}] is empty; every input needs some text")
            texts.append(text)
            counts.append(count)
        return texts, counts

    def _decoded(self, index: int, tokens: Sequence[int]) -> str:
        try:
            return self.tokens.decode(tokens)
        except ValueError:
            raise InvalidRequest(f"input[{index}] holds a token id that the configured encoding lacks") from None

    async def _check_lengths(self, texts: list[str], unique: list[str], counts: list[int], truncate: bool) -> None:
        window: int | None = getattr(self.embedder, "max_input_tokens", None)
        count_own = getattr(self.embedder, "input_tokens", None)
        if window is not None and truncate:
            return  # the embedder cuts at its own window, as for the chunks ingestion stores
        if window is not None and count_own is not None:
            own = dict(zip(unique, await count_own(unique), strict=True))
            lengths, unit = [own[text] for text in texts], f"of {self.embedder.name}'s tokens"
        else:
            window, lengths, unit = DEFAULT_MAX_INPUT_TOKENS, counts, "tokens"
        for index, length in enumerate(lengths):
            if length > window:
                raise InputTooLong(
                    f"input[{index}] is {length} {unit} long; {self.embedder.name} reads at most {window}:"
                    " split it into shorter texts",
                    param="input",
                )
