"""Chat on any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp's server, another
botgpt) through the official openai SDK (``AsyncOpenAI``), streamed so a cut-off answer is
detected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import openai

from botgpt.adapters.chat_completions import answer_events, payload, sampling, sdk_classifier
from botgpt.adapters.resilience import Classifier, RemoteChatModel, RetryPolicy
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions
from botgpt.ports.tokens import TokenCounter

# Servers that check no key still need the SDK to send one.
PLACEHOLDER_KEY = "no-key"


def server_label(base_url: str) -> str:
    """How messages name the server: its host and port, never credentials in the URL."""
    parts = urlsplit(base_url)
    host = parts.hostname or base_url
    return f"the server at {host}:{parts.port}" if parts.port else f"the server at {host}"


def classifier_for(base_url: str) -> Classifier:
    """The openai SDK's errors as retry decisions, naming the server."""
    return sdk_classifier(openai, server_label(base_url))


def make_client(
    base_url: str, api_key: str, timeout_seconds: float, headers: Mapping[str, str] | None = None
) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` at ``base_url`` with the SDK's own retries off: ``RetryPolicy`` decides."""
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or PLACEHOLDER_KEY,
        max_retries=0,
        timeout=timeout_seconds,
        default_headers=dict(headers or {}),
    )


def counted(tokens: TokenCounter, messages: Sequence[ChatMessage], answer: str) -> tuple[int, int]:
    """(prompt, completion) tokens as botgpt's own counter sees them, for servers that report none."""
    return sum(tokens.count(m.content) for m in messages), tokens.count(answer)


class OpenAIChatModel(RemoteChatModel):
    """A ``ChatModel`` on ``POST {base_url}/chat/completions``, through ``client`` (``make_client``).

    The usage comes from the stream's last chunk (``stream_options.include_usage``); a server
    that reports none has its tokens counted here with ``tokens``, so that budgets and usage
    accounting still see them.
    """

    def __init__(
        self,
        client: Any,
        model: str,
        context_window: int,
        policy: RetryPolicy,
        tokens: TokenCounter | None = None,
    ) -> None:
        super().__init__(model, context_window, policy, classifier_for(str(client.base_url)))
        self._client, self._tokens = client, tokens

    async def _events(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """One unretried attempt: text deltas, then the Completion; a cut-off stream raises."""
        stream: Any = await self._client.chat.completions.create(
            model=self._model,
            messages=payload(messages),
            stream=True,
            stream_options={"include_usage": True},
            **sampling(options),
        )
        estimate = None if self._tokens is None else partial(counted, self._tokens, messages)
        async for event in answer_events(stream, self._model, estimate=estimate):
            yield event

    async def close(self) -> None:
        await self._client.close()
