"""``POST /v1/embeddings``: OpenAI's embeddings endpoint, answered by the configured embedder.

Tools that take an OpenAI embedding endpoint (Open WebUI, LangChain, the openai SDK) can use a
botgpt server with ``base_url=http://host/v1``; the vectors are the ones botgpt's ingestion
stores for the same text.

- ``input``: a text, a list of texts (at most 2048), or token ids of the configured encoding
  (``BOTGPT_TOKEN_ENCODING``, cl100k_base by default: what LangChain sends), one list or a list
  of lists. Ids the encoding lacks answer 422. An input longer than the embedder reads (MiniLM:
  256 of its own tokens) is read up to there, as botgpt's own ingestion and a local
  sentence-transformers model read it (Ollama's default too); with ``"truncate": false`` it
  answers 422 ``input_too_long`` instead. An embedder that states no window is held to 8192
  tokens.
- ``model``: any name is accepted, as by ``/v1/chat/completions``; the response names the
  embedder that answered (``GET /v1/models`` lists it).
- ``encoding_format``: ``float`` (default) or ``base64`` (little-endian float32, what the
  openai SDK asks for and decodes).
- ``dimensions``: only the embedder's own dimension; another answers 400 ``unsupported_option``
  (MiniLM's vectors cannot be shortened meaningfully).
- ``user`` names the user, as in chat completions; the tokens (``usage.prompt_tokens``,
  counted with botgpt's tokenizer) are booked to that user and key, and the key's daily token
  and per-minute request limits apply.
"""

from __future__ import annotations

import base64
import sys
from array import array

import msgspec
from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response
from quart_schema import document_response, validate_request

from botgpt.domain.embeddings import EmbeddingService
from botgpt.domain.errors import UnsupportedOption
from botgpt.domain.model import Vector
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.auth import spends_tokens
from botgpt.entrypoints.http.identity import current_principal
from botgpt.entrypoints.http.openai_embeddings_dto import EmbeddingListOut, EmbeddingsIn
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.routes import as_caller

blueprint = Blueprint("openai_embeddings", __name__, url_prefix="/v1")


@blueprint.post("/embeddings")
@operation("Create embeddings")
@validate_request(EmbeddingsIn)
@document_response(EmbeddingListOut)
@spends_tokens
@as_caller(acts=True, claim="user")
@inject
async def create_embeddings(
    data: EmbeddingsIn,
    user_id: str,
    embeddings: EmbeddingService = Provide["embeddings"],
    usage: UsageService = Provide["usage"],
) -> Response:
    """Vectors for texts (or token ids), one per input in order, from the configured embedder.
    `model` may be any name (the response names the embedder); `dimensions`, when sent, must be
    the embedder's own. An input longer than the embedder reads is cut there, as ingestion cuts
    it; with `"truncate": false` it answers 422 `input_too_long` instead."""
    if data.dimensions is not None and data.dimensions != embeddings.dimension:
        raise UnsupportedOption(
            f"dimensions: {embeddings.model} makes {embeddings.dimension}-dimensional vectors only, not"
            f" {data.dimensions}; leave dimensions out",
            param="dimensions",
        )
    embedded = await embeddings.embed(data.inputs(), truncate=data.truncate)
    principal = current_principal()
    await usage.record_tokens(user_id, principal.key if principal else None, embedded.prompt_tokens, 0)
    encode = _base64 if data.encoding_format == "base64" else _floats
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": encode(vector)}
            for index, vector in enumerate(embedded.vectors)
        ],
        "model": embeddings.model,
        "usage": {"prompt_tokens": embedded.prompt_tokens, "total_tokens": embedded.prompt_tokens},
    }
    # msgspec: a full request is 2048 vectors of hundreds of floats, slow for the json module.
    return Response(msgspec.json.encode(body), content_type="application/json")


def _floats(vector: Vector) -> list[float]:
    return [float(value) for value in vector]


def _base64(vector: Vector) -> str:
    # Little-endian float32, whatever this machine's order: what the openai SDK decodes.
    values = array("f", vector)
    if sys.byteorder == "big":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")
