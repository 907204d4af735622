"""Chat on Groq through the groq SDK (``AsyncGroq``), streamed so a cut-off answer is detected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import groq

from botgpt.adapters.chat_completions import answer_events, chunk_usage, payload, sampling, sdk_classifier
from botgpt.adapters.resilience import RemoteChatModel, RetryPolicy
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions

classify = sdk_classifier(groq, "Groq")


def _groq_usage(chunk: Any) -> Any:
    """Groq reports usage in its ``x_groq`` extension (and, when asked, as OpenAI does)."""
    return getattr(getattr(chunk, "x_groq", None), "usage", None) or chunk_usage(chunk)


class GroqChatModel(RemoteChatModel):
    """A ``ChatModel`` on Groq. The SDK's own retries are off: ``RetryPolicy`` decides.

    ``GROQ_BASE_URL`` is honoured by the SDK itself.
    """

    def __init__(self, api_key: str, model: str, context_window: int, policy: RetryPolicy, client: Any = None) -> None:
        super().__init__(model, context_window, policy, classify)
        self._client = client or groq.AsyncGroq(api_key=api_key, max_retries=0, timeout=policy.timeout_seconds)

    async def _events(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """One unretried attempt: text deltas, then the Completion; a cut-off stream raises."""
        stream: Any = await self._client.chat.completions.create(
            model=self._model,
            messages=payload(messages),  # type: ignore[arg-type]
            stream=True,
            **sampling(options),
        )
        async for event in answer_events(stream, self._model, usage_of=_groq_usage):
            yield event

    async def close(self) -> None:
        await self._client.close()
