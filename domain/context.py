"""Context-window budgeting: which history a prompt can carry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from botgpt.domain.model import Message

M = TypeVar("M")

# Chat templates wrap each message in role markers (`<|im_start|>user\n ... <|im_end|>\n`);
# this is their cost in tokens, so that the budget holds for the formatted prompt.
MESSAGE_OVERHEAD_TOKENS = 4


def message_cost(message: Message) -> int:
    """Tokens a stored message takes in a prompt, template markers included."""
    return message.tokens + MESSAGE_OVERHEAD_TOKENS


def text_cost(tokens: int) -> int:
    """Tokens a not-yet-stored text of ``tokens`` takes in a prompt."""
    return tokens + MESSAGE_OVERHEAD_TOKENS


def newest_that_fit(
    messages: Sequence[M], budget: int, cost: Callable[[M], int], max_messages: int | None = None
) -> list[M]:
    """The longest run of newest messages whose total cost fits ``budget``, in order.

    Messages are never split. The run stops at the first message that does not fit, so the
    result is always a suffix of ``messages``: no gaps in the middle of the history.
    """
    limit = len(messages) if max_messages is None else min(max_messages, len(messages))
    spent = 0
    start = len(messages)
    while start > len(messages) - limit:
        next_cost = cost(messages[start - 1])
        if spent + next_cost > budget:
            break
        spent += next_cost
        start -= 1
    return list(messages[start:])


@attrs.frozen
class ContextBudget:
    """The token arithmetic of one prompt.

    ``usable`` is the model's window less the answer's reserve and a safety margin: the
    margin absorbs the gap between the counting tokenizer and the model's own.
    """

    context_window: int
    answer_reserve: int
    safety_margin: float = 0.1

    @property
    def usable(self) -> int:
        prompt_room = self.context_window - self.answer_reserve
        return max(0, int(prompt_room * (1.0 - self.safety_margin)))

    def history_room(self, system_tokens: int, new_message_tokens: int) -> int:
        """Tokens left for history after the system prompt and the new message."""
        return self.usable - text_cost(system_tokens) - text_cost(new_message_tokens)
