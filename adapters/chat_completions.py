"""OpenAI's chat-completions wire format, shared by every adapter that speaks it (Groq, and
any OpenAI-compatible server): the request's messages and sampling parameters, the SDKs'
errors as retry decisions, and a streamed answer read into text deltas and one Completion.

The groq and openai SDKs are generated from the same template, so their error classes
have the same names and meanings; ``sdk_classifier`` takes the SDK module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from types import ModuleType
from typing import Any

from botgpt.adapters.resilience import Classifier, ProviderRejected, ProviderUnavailable, retry_after_seconds
from botgpt.domain.model import ChatMessage, Completion, FinishReason, GenerationOptions

# Statuses below 500 that mean "not now" rather than "never": request timeout, rate limit.
RETRYABLE_STATUSES = frozenset({408, 429})
# How much of a server's error message is kept: enough to say why, not a whole HTML page.
MESSAGE_CHARS = 300


def sdk_classifier(sdk: ModuleType, label: str) -> Classifier:
    """A classifier of ``sdk``'s errors (``groq`` or ``openai``); ``label`` names the server in messages."""

    def classify(error: Exception) -> ProviderUnavailable | ProviderRejected | None:
        if isinstance(error, sdk.APIStatusError):
            status, said = int(error.status_code), _server_message(error)
            if status in RETRYABLE_STATUSES or status >= 500:
                return ProviderUnavailable(
                    f"{label} answered {status}{said}", retry_after_seconds(error.response.headers)
                )
            return ProviderRejected(f"{label} rejected the request ({status}){said}")
        if isinstance(error, sdk.APIConnectionError | sdk.APITimeoutError) or _transport_error(error):
            return ProviderUnavailable(f"{label} could not be reached or cut the connection")
        if isinstance(error, json.JSONDecodeError | sdk.APIResponseValidationError):
            return ProviderUnavailable(f"{label} sent a malformed response")
        if isinstance(error, sdk.APIError):  # an error event inside the stream
            return ProviderUnavailable(f"{label} reported an error mid-answer")
        return None

    return classify


def _server_message(error: Any) -> str:
    """``": <the server's own message>"``, so that a refusal says why; empty when it gave none."""
    body = getattr(error, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    message = body.get("message") if isinstance(body, dict) else None
    return f": {str(message)[:MESSAGE_CHARS]}" if message else ""


def _transport_error(error: Exception) -> bool:
    """A connection dropped mid-stream: some SDK versions let httpx's (or httpx2's) own error through."""
    return any(
        kind.__name__ == "TransportError" and kind.__module__.split(".")[0] in ("httpx", "httpx2")
        for kind in type(error).__mro__
    )


def payload(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """The messages as the API takes them."""
    return [{"role": m.role.value, "content": m.content} for m in messages]


def sampling(options: GenerationOptions) -> dict[str, Any]:
    """The request's sampling parameters; those left unset are not sent (the server's defaults)."""
    chosen: dict[str, Any] = {"max_tokens": options.max_tokens, "temperature": options.temperature}
    optional = {"top_p": options.top_p, "seed": options.seed, "stop": list(options.stop) or None}
    return chosen | {name: value for name, value in optional.items() if value is not None}


def chunk_usage(chunk: Any) -> Any:
    """The usage a chunk carries (OpenAI's ``usage``, sent on the last chunk), or None."""
    return getattr(chunk, "usage", None)


# Counts (prompt, completion) tokens of an answer whose server reported no usage.
TokenEstimate = Callable[[str], tuple[int, int]]


async def answer_events(
    chunks: AsyncIterable[Any],
    model: str,
    usage_of: Callable[[Any], Any] = chunk_usage,
    estimate: TokenEstimate | None = None,
) -> AsyncIterator[str | Completion]:
    """The text deltas of a chat-completion chunk stream, then its ``Completion``.

    A stream that ends before a ``finish_reason`` was cut off: it raises ``ProviderUnavailable``
    instead of passing a partial answer off as whole. Token counts are the server's usage;
    without any, ``estimate`` counts them (or they are 0). The SDK's stream is closed however
    this ends, so that a reader who stops early also stops the server generating.
    """
    parts: list[str] = []
    finish: str | None = None
    usage: Any = None
    try:
        async for chunk in chunks:
            if choices := getattr(chunk, "choices", None):
                finish = choices[0].finish_reason or finish
                # Some servers send a last chunk without a delta.
                if delta := getattr(getattr(choices[0], "delta", None), "content", None):
                    parts.append(delta)
                    yield delta
            usage = usage_of(chunk) or usage
    finally:
        if (close := getattr(chunks, "close", None)) is not None:
            await close()
    if finish is None:
        raise ProviderUnavailable("the answer stream ended before the answer did")
    text = "".join(parts).strip()
    if usage is not None:
        prompt, completion = (
            int(getattr(usage, "prompt_tokens", 0) or 0),
            int(getattr(usage, "completion_tokens", 0) or 0),
        )
    else:
        prompt, completion = estimate(text) if estimate else (0, 0)
    yield Completion(
        text=text,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        finish_reason=FinishReason.LENGTH if finish == "length" else FinishReason.STOP,
    )
