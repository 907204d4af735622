"""Building one turn's prompt within the model's context window."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from botgpt.domain.context import ContextBudget, message_cost, newest_that_fit
from botgpt.domain.errors import MessageTooLarge
from botgpt.domain.model import ChatMessage, Message, Role, Summary
from botgpt.domain.policy import ConversationPolicy
from botgpt.ports.chat import ChatModel
from botgpt.ports.tokens import TokenCounter

SUMMARY_HEADING = "Summary of the earlier conversation:"


def with_summary(system: str, summary: Summary) -> str:
    """The system prompt followed by the summary of what scrolled out of the window."""
    return f"{system}\n\n{SUMMARY_HEADING}\n{summary.text}"


def after_summary(path: Sequence[Message], summary: Summary | None) -> list[Message] | None:
    """The part of a branch the summary does not cover, or None if the summary is not on it."""
    if summary is None:
        return None
    ids = [message.id for message in path]
    return list(path[ids.index(summary.through_id) + 1 :]) if summary.through_id in ids else None


@attrs.frozen
class PromptBuilder:
    """Packs the system prompt, the summary, the newest history that fits and the message."""

    chat: ChatModel
    tokens: TokenCounter
    policy: ConversationPolicy

    def budget(self) -> ContextBudget:
        """The token arithmetic of the chat model's prompts."""
        return ContextBudget(self.chat.context_window, self.policy.max_answer_tokens, self.policy.safety_margin)

    def system_and_history(
        self, path: Sequence[Message], summary: Summary | None, system: str | None = None
    ) -> tuple[str, list[Message]]:
        """The system prompt and the history candidates of a branch: with a summary that lies
        on the branch, the summary joins the system prompt and replaces what it covers."""
        system = self.policy.system_prompt if system is None else system
        uncovered = after_summary(path, summary)
        if uncovered is None or summary is None:
            return system, list(path)
        return with_summary(system, summary), uncovered

    def build(
        self, system: str, history: Sequence[Message], user_message: Message, final_text: str | None = None
    ) -> list[ChatMessage]:
        """The prompt for one turn: system prompt, the newest history that fits, then the
        message (``final_text``, when given, is the message grounded in its sources)."""
        final_text = user_message.content if final_text is None else final_text
        final_tokens = user_message.tokens if final_text is user_message.content else self.tokens.count(final_text)
        room = self.budget().history_room(self.tokens.count(system), final_tokens)
        if room < 0:
            raise MessageTooLarge(
                f"message is {user_message.tokens} tokens; it does not fit the model's context window"
            )
        kept = newest_that_fit(history, room, message_cost, self.policy.history_max_messages)
        return [
            ChatMessage(Role.SYSTEM, system),
            *(ChatMessage(message.role, message.content) for message in kept),
            ChatMessage(Role.USER, final_text),
        ]
