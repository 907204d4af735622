"""Storage ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from botgpt.domain.model import Conversation, ListPosition, Message


class ConversationStore(Protocol):
    """Durable home of conversations and their messages.

    Every read is scoped by the owner's ``user_id``: a conversation of another user is
    indistinguishable from one that does not exist. Implementations must pass
    ``tests/contract/test_conversation_store.py``.
    """

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        """Store a new conversation together with its first messages, atomically."""
        ...

    async def append_messages(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        """Append messages and save the conversation's updated counters, atomically.

        Raises ``ConversationNotFound`` if the conversation was deleted meanwhile.
        """
        ...

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        """One conversation, or None. ``user_id=None`` skips the owner check (open mode)."""
        ...

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        """Save a new title; False if the conversation is gone."""
        ...

    async def delete_conversation(self, conversation_id: str) -> bool:
        """Delete a conversation and all its messages; False if it did not exist."""
        ...

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        """A user's conversations, newest ``updated_at`` first, ties broken by id descending.

        With ``after``, the listing starts strictly after that position (keyset paging).
        """
        ...

    async def count_conversations(self, user_id: str) -> int:
        """How many conversations the user owns."""
        ...

    async def list_messages(self, conversation_id: str) -> list[Message]:
        """All messages of a conversation, oldest first."""
        ...

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        """The newest ``limit`` messages of a conversation, oldest first."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot serve requests."""
        ...
