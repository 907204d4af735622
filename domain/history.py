"""A user's stored conversations: list, read, rename, delete, and the branches of one.

These are the read-and-manage use cases; producing turns is ``conversations.py``'s job.
"""

from __future__ import annotations

import attrs

from botgpt.domain.branches import newest_leaf_under
from botgpt.domain.cursors import decode_cursor, encode_cursor
from botgpt.domain.errors import ConversationNotFound, InvalidRequest, MessageNotFound
from botgpt.domain.ids import checked_id
from botgpt.domain.model import (
    Conversation,
    ConversationDetail,
    ConversationTree,
    ListPosition,
    Message,
    Page,
    Siblings,
)
from botgpt.domain.paging import check_paging
from botgpt.domain.policy import ConversationPolicy
from botgpt.ports.stores import ConversationStore

MAX_PAGE_SIZE = 100


async def owned_conversation(store: ConversationStore, user_id: str | None, conversation_id: str) -> Conversation:
    """The conversation if ``user_id`` owns it (``None``: anyone, in open mode); 404 otherwise."""
    checked_id(conversation_id, "conversation id")
    conversation = await store.get_conversation(user_id, conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    return conversation


async def message_of(store: ConversationStore, conversation: Conversation, message_id: str) -> Message:
    """A message of this conversation; 404 for an unknown id or another conversation's message."""
    checked_id(message_id, "message id")
    message = await store.get_message(conversation.id, message_id)
    if message is None:
        raise MessageNotFound()
    return message


@attrs.define
class ConversationHistory:
    """Reading and managing stored conversations, always scoped to their owner."""

    store: ConversationStore
    policy: ConversationPolicy = attrs.Factory(ConversationPolicy)

    async def list_conversations(
        self, user_id: str, limit: int = 20, offset: int = 0, cursor: str | None = None
    ) -> Page[Conversation]:
        """A user's conversations, newest first, by offset or by cursor."""
        _check_page(limit, offset, cursor)
        after = decode_cursor(cursor) if cursor else None
        rows = await self.store.list_conversations(user_id, limit + 1, offset, after)
        total = await self.store.count_conversations(user_id)
        items = tuple(rows[:limit])
        more = len(rows) > limit
        next_cursor = encode_cursor(ListPosition(items[-1].updated_at, items[-1].id)) if more else None
        return Page(items=items, total=total, limit=limit, offset=offset, next_cursor=next_cursor)

    async def get(self, user_id: str | None, conversation_id: str) -> ConversationDetail:
        """One conversation with the messages of its active branch, oldest first."""
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        leaf = conversation.active_leaf_id
        messages = await self.store.branch(conversation.id, leaf) if leaf else []
        return ConversationDetail(conversation, tuple(messages))

    async def tree(self, user_id: str | None, conversation_id: str) -> ConversationTree:
        """One conversation with every message of every branch, parents first."""
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        return ConversationTree(conversation, tuple(await self.store.list_messages(conversation.id)))

    async def siblings(self, user_id: str | None, conversation_id: str, message_id: str) -> Siblings:
        """The alternatives at a message's point: it and every other child of its parent."""
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        message = await message_of(self.store, conversation, message_id)
        alternatives = await self.store.children(conversation.id, message.parent_id)
        leaf = conversation.active_leaf_id
        on_branch = {m.id for m in await self.store.branch(conversation.id, leaf)} if leaf else set()
        active = next((m.id for m in alternatives if m.id in on_branch), None)
        return Siblings(message.parent_id, tuple(alternatives), active)

    async def switch_branch(self, user_id: str | None, conversation_id: str, message_id: str) -> ConversationDetail:
        """Make the branch through ``message_id`` active; it continues to that message's newest
        descendant, as a chat app's "< 2/3 >" arrows do."""
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        await message_of(self.store, conversation, message_id)
        leaf = newest_leaf_under(await self.store.list_messages(conversation.id), message_id)
        if not await self.store.set_active_leaf(conversation.id, leaf):
            raise ConversationNotFound()
        return await self.get(user_id, conversation_id)

    async def rename(self, user_id: str | None, conversation_id: str, title: str) -> Conversation:
        """Give a conversation a new title."""
        title = " ".join(title.split())
        if not title or len(title) > self.policy.max_title_chars:
            raise InvalidRequest(f"title must be 1 to {self.policy.max_title_chars} characters")
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        if not await self.store.rename_conversation(conversation.id, title):
            raise ConversationNotFound()
        return attrs.evolve(conversation, title=title)

    async def delete(self, user_id: str | None, conversation_id: str) -> None:
        """Delete a conversation together with every message of every branch."""
        conversation = await owned_conversation(self.store, user_id, conversation_id)
        if not await self.store.delete_conversation(conversation.id):
            raise ConversationNotFound()


def _check_page(limit: int, offset: int, cursor: str | None) -> None:
    check_paging(limit, offset, MAX_PAGE_SIZE)
    if cursor and offset:
        raise InvalidRequest("give either cursor or offset, not both")
