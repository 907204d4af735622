"""A chain of chat models: when one cannot answer, the next one does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import attrs

from botgpt.domain.errors import ChatModelError, MessageTooLarge
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions
from botgpt.ports.chat import ChatModel
from botgpt.ports.telemetry import NO_METRICS, Metrics

log = logging.getLogger(__name__)


async def readiness_of(model: ChatModel) -> str:
    """``ok``, or why ``model`` cannot answer yet: a model may offer ``readiness()`` (the
    local engine: ``starting``, ``restarting``, ``crash_loop``) or a ``loaded`` flag."""
    readiness = getattr(model, "readiness", None)
    if readiness is not None:
        return str(await readiness())
    return "ok" if getattr(model, "loaded", True) else "loading"


class FallbackChatModel:
    """Tries each model in order (for example groq, then the local model).

    The server always asks its models through this chain, even a chain of one: it is where
    an answer learns which configured ``providers`` gave it (``Completion.provider``), and
    where each provider's failures and each fallback are counted.

    The completion names the model that actually answered, so the stored message does too.
    A prompt too large for the context is not retried elsewhere: the budget used the
    smallest window of the chain.
    """

    def __init__(
        self, models: Sequence[ChatModel], providers: Sequence[str] = (), metrics: Metrics = NO_METRICS
    ) -> None:
        if not models:
            raise ValueError("a fallback chain needs at least one model")
        self.models = tuple(models)
        self.providers = tuple(providers) or tuple(model.name for model in self.models)
        if len(self.providers) != len(self.models):
            raise ValueError("a fallback chain names one provider per model")
        self.metrics = metrics

    @property
    def name(self) -> str:
        return self.models[0].name

    @property
    def context_window(self) -> int:
        return min(model.context_window for model in self.models)

    async def readiness(self) -> str:
        """``ok`` when any model of the chain can answer; otherwise the first one's state."""
        states = []
        for model in self.models:
            state = await readiness_of(model)
            if state == "ok":
                return state
            states.append(state)
        return states[0]

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        """The first answer any model in the chain gives; the last error if none does."""
        failure: ChatModelError | None = None
        for index, model in enumerate(self.models):
            try:
                completion = await model.complete(messages, options)
            except MessageTooLarge:
                raise
            except ChatModelError as error:
                self._failed(index, error)
                failure = error
                continue
            return attrs.evolve(completion, provider=self.providers[index])
        assert failure is not None
        raise failure

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """The first model that starts answering streams the answer. Once text has been sent,
        a failure is final: switching models mid-answer would splice two answers."""
        failure: ChatModelError | None = None
        for index, model in enumerate(self.models):
            events = model.stream(messages, options)
            try:
                first = await anext(events)
            except MessageTooLarge:
                raise
            except ChatModelError as error:
                self._failed(index, error)
                failure = error
                continue
            try:
                yield self._named(first, index)
                async for event in events:
                    yield self._named(event, index)
            except ChatModelError as error:
                self.metrics.provider_failed(self.providers[index], error.code)
                raise
            return
        assert failure is not None
        raise failure

    def _named(self, event: str | Completion, index: int) -> str | Completion:
        return attrs.evolve(event, provider=self.providers[index]) if isinstance(event, Completion) else event

    def _failed(self, index: int, error: ChatModelError) -> None:
        provider = self.providers[index]
        self.metrics.provider_failed(provider, error.code)
        if index + 1 < len(self.models):
            log.warning("chat provider %s failed (%s); trying %s", provider, error, self.providers[index + 1])
            self.metrics.provider_fell_back(provider, self.providers[index + 1])
        elif len(self.models) > 1:
            log.warning("chat provider %s failed (%s); it was the last of the chain", provider, error)
