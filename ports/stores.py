"""Storage ports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from botgpt.domain.model import Conversation, ListPosition, Message, Summary


class ConversationStore(Protocol):
    """Durable home of conversations and their message trees.

    Every read is scoped by the owner's ``user_id``: a conversation of another user is
    indistinguishable from one that does not exist. Implementations must pass
    ``tests/contract/test_conversation_store.py``.
    """

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        """Store a new conversation together with its first messages, atomically."""
        ...

    async def append_messages(
        self, conversation: Conversation, messages: Sequence[Message], *, expected_leaf_id: str | None
    ) -> None:
        """Add messages to the tree, increment the conversation's counters by theirs, and save
        its ``updated_at`` and ``active_leaf_id``, atomically, if the stored active leaf is
        still ``expected_leaf_id`` (the one the turn was prepared against).

        Raises ``ConversationNotFound`` if the conversation was deleted meanwhile, and
        ``TurnConflict`` if another turn (or a branch switch) moved its active leaf meanwhile:
        nothing is stored then.
        """
        ...

    async def set_active_leaf(self, conversation_id: str, leaf_id: str) -> bool:
        """Make ``leaf_id`` the end of the active branch; False if the conversation is gone."""
        ...

    async def save_summary(
        self, conversation_id: str, summary: Summary, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        """Replace the conversation's summary and add what writing it cost to its usage
        counters; False if the conversation is gone."""
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
        """Every message of every branch, in the order they were stored (parents first)."""
        ...

    async def branch(self, conversation_id: str, leaf_id: str) -> list[Message]:
        """The path from the root to ``leaf_id``, oldest first; empty if there is no such message."""
        ...

    async def get_message(self, conversation_id: str, message_id: str) -> Message | None:
        """One message of this conversation, or None (also for another conversation's message)."""
        ...

    async def children(self, conversation_id: str, parent_id: str | None) -> list[Message]:
        """The messages whose parent is ``parent_id`` (``None``: the first messages), oldest first."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot serve requests."""
        ...
