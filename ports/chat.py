"""Chat model port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from botgpt.domain.model import ChatMessage, Completion, GenerationOptions


class ChatModel(Protocol):
    """A model that answers a chat prompt, sampled as ``GenerationOptions`` say.

    An answer is at most ``options.max_tokens`` long (its ``finish_reason`` is ``LENGTH``
    when it was cut there) and ends before the first of ``options.stop``, which it does not
    contain. Implementations raise ``ModelUnavailable`` when a retry may succeed and ``ModelFailed``
    when it will not; they never return a partial answer as a completion.
    """

    @property
    def name(self) -> str:
        """The model's name as stored on the messages it writes."""
        ...

    @property
    def context_window(self) -> int:
        """How many tokens the prompt and the answer may use together."""
        ...

    async def complete(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Completion:
        """Answer the conversation so far with the next assistant message."""
        ...

    def stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> AsyncIterator[str | Completion]:
        """Yield the answer's text as it is generated, then the whole ``Completion``, last.

        Closing the iterator early stops generation. A failure after text was yielded is
        raised as ``ModelUnavailable``; no ``Completion`` follows it.
        """
        ...
