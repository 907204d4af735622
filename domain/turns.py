"""A turn between preparation and storage, and what is told once it is stored."""

from __future__ import annotations

from typing import Protocol

import attrs

from botgpt.domain.grounding import Source
from botgpt.domain.model import ChatMessage, Conversation, Message
from botgpt.domain.turn_telemetry import TurnTrace


class AfterTurn(Protocol):
    """Told about every stored turn, after the answer was delivered (summary memory)."""

    def schedule(self, conversation: Conversation) -> None:
        """Start whatever follows a turn, without delaying it."""
        ...


@attrs.frozen
class Sampling:
    """A turn's own sampling choices; each one left ``None`` (or empty) takes the policy's.

    ``max_tokens`` can only lower the policy's cap, never raise it: the prompt was packed to
    leave room for that many answer tokens.
    """

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def over(self, base: Sampling) -> Sampling:
        """These choices where they are made, ``base``'s where they are not."""
        return Sampling(
            max_tokens=base.max_tokens if self.max_tokens is None else self.max_tokens,
            temperature=base.temperature if self.temperature is None else self.temperature,
            top_p=base.top_p if self.top_p is None else self.top_p,
            seed=base.seed if self.seed is None else self.seed,
            stop=self.stop or base.stop,
        )


@attrs.frozen
class PreparedTurn:
    """A checked turn, ready for the model: nothing of it is stored yet.

    ``regenerated`` turns answer a user message that is already stored; ``sampling``
    overrides the policy's choices for this turn. ``trace`` is its telemetry, begun when its
    preparation began.
    """

    conversation: Conversation
    user_message: Message
    prompt: tuple[ChatMessage, ...]
    sources: tuple[Source, ...]
    is_new: bool
    stored: bool = True
    regenerated: bool = False
    sampling: Sampling = Sampling()
    trace: TurnTrace = attrs.field(factory=TurnTrace, eq=False, repr=False)
