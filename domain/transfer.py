"""Export a conversation's whole tree, and import one for another (or the same) user."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from botgpt.domain.branches import check_tree
from botgpt.domain.clock import utc_now
from botgpt.domain.errors import ImportTooLarge, InvalidRequest, InvalidTree
from botgpt.domain.history import ConversationHistory
from botgpt.domain.ids import new_id
from botgpt.domain.model import Conversation, ConversationTree, Message, Role, Summary
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.retrieval import owned_document_ids
from botgpt.domain.titles import UNTITLED
from botgpt.ports.documents import DocumentStore
from botgpt.ports.stores import ConversationStore
from botgpt.ports.tokens import TokenCounter

IMPORTABLE_ROLES = frozenset({Role.USER, Role.ASSISTANT})


@attrs.define
class ConversationTransfer:
    """Moves whole conversations in and out. An import gets new ids, belongs to the caller,
    keeps only the caller's own documents, and is stored all at once or not at all."""

    store: ConversationStore
    history: ConversationHistory
    tokens: TokenCounter
    documents: DocumentStore | None = None
    clock: Callable[[], datetime] = utc_now
    policy: ConversationPolicy = attrs.Factory(ConversationPolicy)
    max_messages: int = 10_000

    async def export(self, user_id: str | None, conversation_id: str) -> ConversationTree:
        """Every message of every branch of one of the user's conversations."""
        return await self.history.tree(user_id, conversation_id)

    async def import_tree(self, user_id: str, tree: ConversationTree) -> Conversation:
        """Store ``tree`` as a new conversation of ``user_id`` and return it."""
        if not user_id.strip():
            raise InvalidRequest("a user is required: send user_id, or use an API key")
        self._check(tree)
        ids = {message.id: new_id() for message in tree.messages}
        conversation_id = new_id()
        messages = [self._copied(message, conversation_id, ids) for message in tree.messages]
        conversation = attrs.evolve(
            _counted(tree.conversation, messages),
            id=conversation_id, user_id=user_id, updated_at=self.clock(), title=self._title(tree.conversation.title),
            document_ids=tuple(await self._own_documents(user_id, tree.conversation.document_ids)),
            active_leaf_id=_leaf(tree, ids), summary=_summary(tree.conversation.summary, ids, self.tokens),
        )  # fmt: skip
        await self.store.add_conversation(conversation, messages)
        return conversation

    def _check(self, tree: ConversationTree) -> None:
        if len(tree.messages) > self.max_messages:
            raise ImportTooLarge(f"an import holds at most {self.max_messages} messages")
        check_tree(tree.messages)
        if any(message.role not in IMPORTABLE_ROLES for message in tree.messages):
            raise InvalidTree("imported messages must be the user's or the assistant's")
        if any(not message.content.strip() for message in tree.messages):
            raise InvalidRequest("imported messages must not be empty")
        leaf = tree.conversation.active_leaf_id
        if leaf is not None and leaf not in {message.id for message in tree.messages}:
            raise InvalidTree("active_leaf_id names no message of the conversation")

    def _title(self, title: str) -> str:
        folded = " ".join(title.split())
        if len(folded) > self.policy.max_title_chars:
            raise InvalidRequest(f"title must be at most {self.policy.max_title_chars} characters")
        return folded or UNTITLED

    def _copied(self, message: Message, conversation_id: str, ids: dict[str, str]) -> Message:
        # Token counts drive the context budget, so they are counted here, not trusted.
        return attrs.evolve(
            message, id=ids[message.id], conversation_id=conversation_id, tokens=self.tokens.count(message.content),
            parent_id=ids[message.parent_id] if message.parent_id else None,
        )  # fmt: skip

    async def _own_documents(self, user_id: str, document_ids: Sequence[str]) -> list[str]:
        if self.documents is None:
            return []
        return await owned_document_ids(self.documents, user_id, document_ids)


def _leaf(tree: ConversationTree, ids: dict[str, str]) -> str | None:
    # Parents come first, so the last message is always a leaf.
    leaf = tree.conversation.active_leaf_id or (tree.messages[-1].id if tree.messages else None)
    return ids[leaf] if leaf else None


def _summary(summary: Summary | None, ids: dict[str, str], tokens: TokenCounter) -> Summary | None:
    if summary is None or summary.through_id not in ids:
        return None
    return Summary(summary.text, ids[summary.through_id], tokens.count(summary.text))


def _counted(conversation: Conversation, messages: Sequence[Message]) -> Conversation:
    return attrs.evolve(
        conversation,
        message_count=len(messages),
        total_tokens=sum(m.tokens for m in messages),
        prompt_tokens=sum(m.prompt_tokens for m in messages),
        completion_tokens=sum(m.completion_tokens for m in messages),
    )
