"""Request and response bodies of ``POST /v1/embeddings``, as OpenAI documents them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import attrs
import msgspec

from botgpt.domain.embeddings import MAX_INPUTS, EmbeddingInput
from botgpt.domain.errors import InvalidRequest
from botgpt.entrypoints.http.fields_dto import UserId

Text = Annotated[str, msgspec.Meta(min_length=1)]
TokenId = Annotated[int, msgspec.Meta(ge=0)]
Tokens = Annotated[list[TokenId], msgspec.Meta(min_length=1)]

_TEXT = {"type": "string", "minLength": 1}
_TOKENS = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1}
# What ``input`` takes, as OpenAI states it. msgspec reads one array type per union, so the
# model reads a list of any of the three and ``inputs`` refuses a mixed one.
INPUT_SCHEMA = {
    "anyOf": [
        {**_TEXT, "description": "One text"},
        {"type": "array", "items": _TEXT, "minItems": 1, "maxItems": MAX_INPUTS, "description": "Texts"},
        {**_TOKENS, "description": "One text as token ids of the configured encoding (cl100k_base by default)"},
        {"type": "array", "items": _TOKENS, "minItems": 1, "maxItems": MAX_INPUTS, "description": "Texts as token ids"},
    ]
}


@attrs.define
class EmbeddingsIn:
    OPENAPI_RULES: ClassVar[dict[str, Any]] = {"properties": {"input": INPUT_SCHEMA}}

    input: Text | Annotated[list[Text | TokenId | Tokens], msgspec.Meta(min_length=1)]
    # Any name is accepted, as by /v1/chat/completions: the configured embedder answers, and the
    # response's ``model`` names it.
    model: str
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, msgspec.Meta(ge=1)] | None = None
    user: UserId | None = None
    # Ollama's field: false refuses an input longer than the embedder reads instead of cutting it.
    truncate: bool = True

    def inputs(self) -> list[EmbeddingInput]:
        """The texts or token lists to embed, one per vector."""
        if isinstance(self.input, str):
            return [self.input]
        items = self.input
        if all(isinstance(item, int) for item in items):
            return [items]  # type: ignore[list-item]  # one text as token ids
        if all(isinstance(item, str) for item in items) or all(isinstance(item, list) for item in items):
            return items  # type: ignore[return-value]
        raise InvalidRequest("input mixes texts, token ids and token lists; send one kind")


@attrs.define
class EmbeddingOut:
    object: str
    index: int
    embedding: Annotated[
        list[float] | str,
        msgspec.Meta(description='Floats; with `"encoding_format": "base64"`, their little-endian float32 bytes'),
    ]


@attrs.define
class EmbeddingUsageOut:
    prompt_tokens: int
    total_tokens: int


@attrs.define
class EmbeddingListOut:
    """One embedding per input, in the inputs' order, and the tokens they counted."""

    object: str
    data: list[EmbeddingOut]
    model: str
    usage: EmbeddingUsageOut
