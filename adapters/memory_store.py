"""In-memory conversation store: the `memory` backend, and the fake for unit tests."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from botgpt.domain.branches import index_by_id, path_to
from botgpt.domain.errors import ConversationNotFound, TurnConflict
from botgpt.domain.model import Conversation, ListPosition, Message, Summary


def _newest_first(conversation: Conversation) -> tuple[object, ...]:
    return (conversation.updated_at, conversation.id)


@attrs.define
class MemoryConversationStore:
    """Keeps everything in dicts. Lost on restart; meant for tests and throwaway runs."""

    _conversations: dict[str, Conversation] = attrs.field(factory=dict)
    _messages: dict[str, list[Message]] = attrs.field(factory=dict)

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        self._conversations[conversation.id] = conversation
        self._messages[conversation.id] = list(messages)

    async def append_messages(
        self, conversation: Conversation, messages: Sequence[Message], *, expected_leaf_id: str | None
    ) -> None:
        stored = self._conversations.get(conversation.id)
        if stored is None:
            raise ConversationNotFound("conversation not found")
        if stored.active_leaf_id != expected_leaf_id:
            raise TurnConflict("another turn in this conversation was stored first; fetch it and send again")
        # Counters are incremented, not overwritten, so concurrent turns add up.
        self._conversations[conversation.id] = attrs.evolve(
            stored,
            updated_at=conversation.updated_at,
            message_count=stored.message_count + len(messages),
            total_tokens=stored.total_tokens + sum(m.tokens for m in messages),
            prompt_tokens=stored.prompt_tokens + sum(m.prompt_tokens for m in messages),
            completion_tokens=stored.completion_tokens + sum(m.completion_tokens for m in messages),
            active_leaf_id=conversation.active_leaf_id,
        )
        self._messages[conversation.id].extend(messages)

    async def set_active_leaf(self, conversation_id: str, leaf_id: str) -> bool:
        return self._update(conversation_id, active_leaf_id=leaf_id)

    async def save_summary(
        self, conversation_id: str, summary: Summary, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        stored = self._conversations.get(conversation_id)
        return stored is not None and self._update(
            conversation_id, summary=summary, prompt_tokens=stored.prompt_tokens + prompt_tokens,
            completion_tokens=stored.completion_tokens + completion_tokens,
        )  # fmt: skip

    def _update(self, conversation_id: str, **changes: object) -> bool:
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            return False
        self._conversations[conversation_id] = attrs.evolve(conversation, **changes)  # type: ignore[arg-type]
        return True

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        conversation = self._conversations.get(conversation_id)
        if conversation is None or (user_id is not None and conversation.user_id != user_id):
            return None
        return conversation

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        return self._update(conversation_id, title=title)

    async def delete_conversation(self, conversation_id: str) -> bool:
        self._messages.pop(conversation_id, None)
        return self._conversations.pop(conversation_id, None) is not None

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        owned = [c for c in self._conversations.values() if c.user_id == user_id]
        if after is not None:
            owned = [c for c in owned if (c.updated_at, c.id) < (after.updated_at, after.id)]
        owned.sort(key=_newest_first, reverse=True)
        return owned[offset : offset + limit]

    async def count_conversations(self, user_id: str) -> int:
        return sum(1 for c in self._conversations.values() if c.user_id == user_id)

    async def list_messages(self, conversation_id: str) -> list[Message]:
        return list(self._messages.get(conversation_id, ()))

    async def branch(self, conversation_id: str, leaf_id: str) -> list[Message]:
        return path_to(index_by_id(self._messages.get(conversation_id, ())), leaf_id)

    async def get_message(self, conversation_id: str, message_id: str) -> Message | None:
        return index_by_id(self._messages.get(conversation_id, ())).get(message_id)

    async def children(self, conversation_id: str, parent_id: str | None) -> list[Message]:
        return [m for m in self._messages.get(conversation_id, ()) if m.parent_id == parent_id]

    async def ping(self) -> None:
        return None
