"""A chain of chat models: when one cannot answer, the next one does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from botgpt.domain.errors import ChatModelError, MessageTooLarge
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions
from botgpt.ports.chat import ChatModel

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

    The completion names the model that actually answered, so the stored message does too.
    A prompt too large for the context is not retried elsewhere: the budget used the
    smallest window of the chain.
    """

    def __init__(self, models: Sequence[ChatModel]) -> None:
        if not models:
            raise ValueError("a fallback chain needs at least one model")
        self.models = tuple(models)

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
        for model in self.models:
            try:
                return await model.complete(messages, options)
            except MessageTooLarge:
                raise
            except ChatModelError as error:
                log.warning("chat model %s failed (%s); trying the next one", model.name, error)
                failure = error
        assert failure is not None
        raise failure

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """The first model that starts answering streams the answer. Once text has been sent,
        a failure is final: switching models mid-answer would splice two answers."""
        failure: ChatModelError | None = None
        for model in self.models:
            events = model.stream(messages, options)
            try:
                first = await anext(events)
            except MessageTooLarge:
                raise
            except ChatModelError as error:
                log.warning("chat model %s failed (%s); trying the next one", model.name, error)
                failure = error
                continue
            yield first
            async for event in events:
                yield event
            return
        assert failure is not None
        raise failure
