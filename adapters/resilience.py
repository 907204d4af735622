"""One retry discipline for every remote provider: per-attempt timeouts, bounded retries with
exponential backoff and full jitter on 429, 5xx and connection errors, honouring Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

import attrs

from botgpt.domain.errors import EmbedderError, ModelFailed, ModelUnavailable
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions, Vector
from botgpt.domain.stopping import stop_at
from botgpt.domain.streaming import collect

log = logging.getLogger(__name__)
T = TypeVar("T")


def _nothing() -> None:
    pass


@attrs.frozen
class RetryPolicy:
    """How hard to try. ``attempts`` counts the first try; ``on_retry`` hears of each retry
    (the server counts them by provider)."""

    attempts: int = 3
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    timeout_seconds: float = 60.0
    max_retry_after: float = 30.0
    on_retry: Callable[[], None] = attrs.field(default=_nothing, eq=False, repr=False)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter on an exponential ceiling; never sooner than the server asked."""
        jittered = random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))
        return max(jittered, min(retry_after or 0.0, self.max_retry_after))


class ProviderUnavailable(Exception):
    """The provider could not answer now (429, 5xx, timeouts, cut-off streams)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejected(Exception):
    """The provider refused the request or the key; retrying will not help."""


Classifier = Callable[[Exception], ProviderUnavailable | ProviderRejected | None]


async def with_retries(
    operation: Callable[[], Awaitable[T]],
    classify: Classifier,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``operation`` under ``policy``. ``classify`` turns an SDK error into
    ``ProviderUnavailable`` (retried) or ``ProviderRejected`` (raised at once); None means
    the error is not the provider's and propagates unchanged."""
    for attempt in range(1, policy.attempts + 1):
        failure = await _attempt(operation, classify, policy)
        if not isinstance(failure, ProviderUnavailable):
            return failure
        if attempt == policy.attempts:
            raise failure
        delay = policy.backoff(attempt, failure.retry_after)
        log.warning("provider unavailable (%s); retry %d in %.2fs", failure, attempt, delay)
        policy.on_retry()
        await sleep(delay)
    raise AssertionError("unreachable")


async def _attempt(
    operation: Callable[[], Awaitable[T]], classify: Classifier, policy: RetryPolicy
) -> T | ProviderUnavailable:
    """One try: its result, or the retryable failure; a rejection or foreign error is raised."""
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            return await operation()
    except TimeoutError:
        return ProviderUnavailable("the provider timed out")
    except ProviderUnavailable as error:
        return error
    except ProviderRejected:
        raise
    except Exception as error:
        failure = classify(error)
        if failure is None:
            raise
        if isinstance(failure, ProviderRejected):
            raise failure from error
        return failure


def retry_after_seconds(headers: object) -> float | None:
    """Retry-After in seconds from response headers (delta-seconds form), if present."""
    getter = getattr(headers, "get", None)
    value = getter("retry-after") if getter else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def retried_stream(
    open_events: Callable[[], AsyncIterator[T]], classify: Classifier, policy: RetryPolicy
) -> AsyncIterator[T]:
    """A stream whose opening (up to its first event) is retried under ``policy``.

    Once an event has been passed on, a failure cannot be retried without repeating it:
    it is raised (classified) instead.
    """

    async def first_event() -> tuple[AsyncIterator[T], T]:
        events = open_events()
        try:
            return events, await anext(events)
        except BaseException:
            await _close(events)
            raise

    events, first = await with_retries(first_event, classify, policy)
    try:
        yield first
        async for event in events:
            yield event
    except (ProviderUnavailable, ProviderRejected):
        raise
    except Exception as error:
        failure = classify(error)
        if failure is None:
            raise
        raise failure from error
    finally:
        await _close(events)


async def _close(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


async def timed(events: AsyncIterator[str | Completion]) -> AsyncIterator[str | Completion]:
    """``events``, whose ``Completion`` says when the first piece of text came (for whole
    answers, whose caller sees no piece arrive)."""
    asked, first = time.monotonic(), None
    try:
        async for event in events:
            if isinstance(event, Completion):
                seconds = None if first is None else first - asked
                yield attrs.evolve(event, first_token_seconds=seconds)
            else:
                first = first or time.monotonic()
                yield event
    finally:
        await _close(events)  # closing this stream early closes the provider's too


@contextmanager
def chat_errors() -> Iterator[None]:
    """Provider failures as the domain's chat errors (503 and 502 for clients)."""
    try:
        yield
    except ProviderUnavailable as error:
        raise ModelUnavailable(f"the chat provider is unavailable: {error}", retry_after=error.retry_after) from error
    except ProviderRejected as error:
        raise ModelFailed(f"the chat provider rejected the request: {error}") from error


@contextmanager
def embedder_errors() -> Iterator[None]:
    """Provider failures as the domain's ``EmbedderError``, saying whether a retry may help."""
    try:
        yield
    except ProviderUnavailable as error:
        raise EmbedderError(f"the embedding provider is unavailable: {error}", transient=True) from error
    except ProviderRejected as error:
        raise EmbedderError(f"the embedding provider rejected the request: {error}", transient=False) from error


async def embedded_in_batches(
    texts: Sequence[str],
    size: int,
    embed_batch: Callable[[list[str]], Awaitable[list[Vector]]],
    classify: Classifier,
    policy: RetryPolicy,
) -> list[Vector]:
    """``texts`` embedded ``size`` at a time, in order, each batch retried under ``policy``;
    what still fails is the domain's ``EmbedderError``."""
    vectors: list[Vector] = []
    with embedder_errors():
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            vectors += await with_retries(partial(embed_batch, batch), classify, policy)
    return vectors


class RemoteChatModel:
    """What every remote chat adapter shares: a subclass writes ``_events`` (one unretried
    attempt that yields text deltas, then the ``Completion``) and gets retried ``complete``
    and ``stream`` under one policy. Stop sequences go to the provider, and are cut here
    too, so a provider that ignores them still never returns one."""

    def __init__(self, model: str, context_window: int, policy: RetryPolicy, classify: Classifier) -> None:
        self._model, self._context_window = model, context_window
        self.policy, self.classify = policy, classify

    @property
    def name(self) -> str:
        return self._model

    @property
    def context_window(self) -> int:
        return self._context_window

    def _events(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> AsyncIterator[str | Completion]:
        raise NotImplementedError

    def _attempt(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> AsyncIterator[str | Completion]:
        return timed(stop_at(self._events(messages, options), options.stop))

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        """The whole answer; a failed or cut-off attempt is retried from the start."""
        with chat_errors():
            attempt = lambda: collect(self._attempt(messages, options))  # noqa: E731
            return await with_retries(attempt, self.classify, self.policy)

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """The answer as it comes; retried until its first token, final after that."""
        with chat_errors():
            opened = retried_stream(lambda: self._attempt(messages, options), self.classify, self.policy)
            async for event in opened:
                yield event
