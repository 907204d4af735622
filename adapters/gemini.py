"""Gemini chat and embeddings through google-genai (``client.aio``).

google-genai does not retry by default and has its own HTTP stack; ``RetryPolicy`` decides
retries here, as for every remote provider. ``base_url`` points the SDK at another endpoint.
"""

from __future__ import annotations

import array
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from botgpt.adapters.resilience import (
    ProviderRejected,
    ProviderUnavailable,
    RemoteChatModel,
    RetryPolicy,
    embedded_in_batches,
    retry_after_seconds,
)
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions, Role, Vector

# batchEmbedContents accepts at most this many texts per request.
EMBED_BATCH_LIMIT = 100


def classify(error: Exception) -> ProviderUnavailable | ProviderRejected | None:
    """Map google-genai's errors onto retry decisions."""
    if isinstance(error, genai_errors.APIError):
        after = retry_after_seconds(getattr(getattr(error, "response", None), "headers", None))
        if error.code == 429 or (error.code or 0) >= 500:
            return ProviderUnavailable(f"Gemini answered {error.code}", after)
        return ProviderRejected(f"Gemini rejected the request ({error.code})")
    if isinstance(error, json.JSONDecodeError | ValueError):
        return ProviderUnavailable("Gemini sent a malformed response")
    if isinstance(error, OSError) or type(error).__module__.split(".")[0] in ("httpx", "httpx2", "aiohttp"):
        return ProviderUnavailable("Gemini could not be reached")
    return None


def make_client(api_key: str, base_url: str | None, timeout_seconds: float) -> Any:
    """A google-genai client for the Gemini API, at ``base_url`` when given."""
    options = types.HttpOptions(base_url=base_url or None, timeout=int(timeout_seconds * 1000))
    return genai.Client(api_key=api_key, http_options=options)


def _contents(messages: Sequence[ChatMessage]) -> tuple[str | None, list[types.Content]]:
    system = "\n\n".join(m.content for m in messages if m.role is Role.SYSTEM) or None
    contents = [
        types.Content(role="model" if m.role is Role.ASSISTANT else "user", parts=[types.Part(text=m.content)])
        for m in messages
        if m.role is not Role.SYSTEM
    ]
    return system, contents


class GeminiChatModel(RemoteChatModel):
    """A ``ChatModel`` on Gemini, streamed so a cut-off answer is detected."""

    def __init__(self, client: Any, model: str, context_window: int, policy: RetryPolicy) -> None:
        super().__init__(model, context_window, policy, classify)
        self._client = client

    async def _events(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """One unretried attempt: text deltas, then the Completion; a cut-off stream raises."""
        system, contents = _contents(messages)
        config = types.GenerateContentConfig(
            system_instruction=system,
            max_output_tokens=options.max_tokens,
            temperature=options.temperature,
            top_p=options.top_p,
            seed=options.seed,
            stop_sequences=list(options.stop) or None,
        )
        parts: list[str] = []
        finish, usage = None, None
        stream = await self._client.aio.models.generate_content_stream(
            model=self._model, contents=contents, config=config
        )
        async for chunk in stream:
            if chunk.candidates and chunk.candidates[0].finish_reason:
                finish = chunk.candidates[0].finish_reason
            usage = chunk.usage_metadata or usage
            if chunk.text:
                parts.append(chunk.text)
                yield chunk.text
        if finish is None:
            raise ProviderUnavailable("the answer stream ended before the answer did")
        yield Completion(
            text="".join(parts).strip(),
            model=self._model,
            prompt_tokens=int(getattr(usage, "prompt_token_count", 0) or 0),
            completion_tokens=int(getattr(usage, "candidates_token_count", 0) or 0),
            finish_reason=FinishReason.LENGTH if finish == types.FinishReason.MAX_TOKENS else FinishReason.STOP,
        )


class GeminiEmbedder:
    """An ``Embedder`` on Gemini: texts go in batches of up to 100 per batchEmbedContents call."""

    def __init__(self, client: Any, model: str, dimension: int, policy: RetryPolicy) -> None:
        self._client, self._model = client, model
        self._dimension, self._policy = dimension, policy

    @property
    def name(self) -> str:
        return f"gemini/{self._model}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return await embedded_in_batches(texts, EMBED_BATCH_LIMIT, self._embed_batch, classify, self._policy)

    async def _embed_batch(self, batch: list[str]) -> list[Vector]:
        config = types.EmbedContentConfig(output_dimensionality=self._dimension)
        result = await self._client.aio.models.embed_content(model=self._model, contents=batch, config=config)
        embeddings = result.embeddings or []
        if len(embeddings) != len(batch):
            raise ProviderUnavailable("Gemini returned a different number of embeddings than texts")
        return [array.array("f", embedding.values or []) for embedding in embeddings]
