"""One retry discipline for every remote provider: per-attempt timeouts, bounded retries with
exponential backoff and full jitter on 429, 5xx and connection errors, honouring Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

log = logging.getLogger(__name__)
T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """How hard to try. ``attempts`` counts the first try."""

    attempts: int = 3
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    timeout_seconds: float = 60.0
    max_retry_after: float = 30.0

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
