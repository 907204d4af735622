"""Chat on Groq through the groq SDK (``AsyncGroq``), streamed so a cut-off answer is detected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import groq

from botgpt.adapters.resilience import (
    ProviderRejected,
    ProviderUnavailable,
    RemoteChatModel,
    RetryPolicy,
    retry_after_seconds,
)
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions


def classify(error: Exception) -> ProviderUnavailable | ProviderRejected | None:
    """Map the SDK's errors onto retry decisions."""
    if isinstance(error, groq.APIStatusError):
        after = retry_after_seconds(error.response.headers)
        if error.status_code == 429 or error.status_code >= 500:
            return ProviderUnavailable(f"Groq answered {error.status_code}", after)
        return ProviderRejected(f"Groq rejected the request ({error.status_code})")
    if isinstance(error, groq.APIConnectionError | groq.APITimeoutError):
        return ProviderUnavailable("Groq could not be reached")
    if isinstance(error, json.JSONDecodeError | groq.APIResponseValidationError | groq.APIError):
        return ProviderUnavailable("Groq sent a malformed response")
    return None


def _payload(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role.value, "content": m.content} for m in messages]


def _sampling(options: GenerationOptions) -> dict[str, Any]:
    """The request's sampling parameters; those left unset are not sent (Groq's defaults)."""
    chosen: dict[str, Any] = {"max_tokens": options.max_tokens, "temperature": options.temperature}
    optional = {"top_p": options.top_p, "seed": options.seed, "stop": list(options.stop) or None}
    return chosen | {name: value for name, value in optional.items() if value is not None}


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
            messages=_payload(messages),  # type: ignore[arg-type]
            stream=True,
            **_sampling(options),
        )
        parts: list[str] = []
        finish: str | None = None
        usage: Any = None
        async for chunk in stream:
            if chunk.choices:
                finish = chunk.choices[0].finish_reason or finish
                if delta := chunk.choices[0].delta.content:
                    parts.append(delta)
                    yield delta
            x_groq = getattr(chunk, "x_groq", None)
            usage = getattr(x_groq, "usage", None) or getattr(chunk, "usage", None) or usage
        if finish is None:
            raise ProviderUnavailable("the answer stream ended before the answer did")
        yield Completion(
            text="".join(parts).strip(),
            model=self._model,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=FinishReason.LENGTH if finish == "length" else FinishReason.STOP,
        )

    async def close(self) -> None:
        await self._client.close()
