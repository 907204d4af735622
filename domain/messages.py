"""Building new conversations and messages: checked, counted, stamped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from botgpt.domain.errors import InvalidRequest, MessageTooLarge
from botgpt.domain.ids import new_id
from botgpt.domain.model import ChatMessage, Citation, Completion, Conversation, Message, Mode, Role, ScopeRequest
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.titles import title_from_message
from botgpt.ports.tokens import TokenCounter


@attrs.frozen
class MessageFactory:
    """Makes the objects a turn stores, with fresh ids, token counts and timestamps."""

    tokens: TokenCounter
    policy: ConversationPolicy
    clock: Callable[[], datetime]

    def conversation(self, user_id: str, text: str, mode: Mode, sources: ScopeRequest) -> Conversation:
        """A new conversation, titled from its first message, searching ``sources``."""
        now = self.clock()
        return Conversation(
            id=new_id(), user_id=user_id, title=title_from_message(text), mode=mode, created_at=now, updated_at=now,
            document_ids=tuple(dict.fromkeys(sources.document_ids)),
            collection_ids=tuple(dict.fromkeys(sources.collection_ids)),
            filters=None if sources.filters is None else dict(sources.filters),
        )  # fmt: skip

    def history_message(self, conversation_id: str, message: ChatMessage, at: datetime) -> Message:
        """A client-held message of a stateless turn (never stored)."""
        return Message(
            id=new_id(), conversation_id=conversation_id, role=message.role, content=message.content, created_at=at,
            tokens=self.tokens.count(message.content),
        )  # fmt: skip

    def user_message(self, conversation_id: str, text: str, at: datetime, parent_id: str | None = None) -> Message:
        """A user's message; empty or over-long text is refused."""
        if not text.strip():
            raise InvalidRequest("message must not be empty")
        if len(text) > self.policy.max_message_chars:
            raise MessageTooLarge(f"message is {len(text)} characters; the limit is {self.policy.max_message_chars}")
        return Message(
            id=new_id(), conversation_id=conversation_id, role=Role.USER, content=text, created_at=at,
            tokens=self.tokens.count(text), parent_id=parent_id,
        )  # fmt: skip

    def answer(self, question: Message, completion: Completion, citations: tuple[Citation, ...]) -> Message:
        """The assistant's answer to ``question``, with the model's usage and the citations."""
        return Message(
            id=new_id(), conversation_id=question.conversation_id, role=Role.ASSISTANT, content=completion.text,
            created_at=self.clock(), tokens=self.tokens.count(completion.text), model=completion.model,
            prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens,
            citations=citations, parent_id=question.id, finish_reason=completion.finish_reason,
        )  # fmt: skip


def with_messages(conversation: Conversation, messages: Sequence[Message]) -> Conversation:
    """The conversation after ``messages`` were added: counters, time, and the new leaf."""
    return attrs.evolve(
        conversation,
        updated_at=messages[-1].created_at,
        message_count=conversation.message_count + len(messages),
        total_tokens=conversation.total_tokens + sum(m.tokens for m in messages),
        prompt_tokens=conversation.prompt_tokens + sum(m.prompt_tokens for m in messages),
        completion_tokens=conversation.completion_tokens + sum(m.completion_tokens for m in messages),
        active_leaf_id=messages[-1].id,
    )
