"""Conversations and messages in MongoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from botgpt.adapters.mongo_schema import MONGO, Database
from botgpt.adapters.records import RecordMap
from botgpt.domain.errors import ConversationNotFound, TurnConflict
from botgpt.domain.model import Conversation, ListPosition, Message, Summary

CONVERSATIONS = RecordMap(Conversation, MONGO)
MESSAGES = RecordMap(Message, MONGO)


def _message_doc(message: Message, seq: int) -> dict[str, Any]:
    return {**MESSAGES.dump(message), "seq": seq}


class MongoConversationStore:
    """Conversations and messages in MongoDB.

    A message's ``seq`` comes from atomically incrementing its conversation's ``next_seq``,
    so concurrent turns never collide and order is insertion order.
    """

    def __init__(self, database: Database) -> None:
        self._conversations = database["conversations"]
        self._messages = database["messages"]
        self._database = database

    async def add_conversation(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        await self._conversations.insert_one({**CONVERSATIONS.dump(conversation), "next_seq": len(messages)})
        if messages:
            await self._messages.insert_many([_message_doc(m, seq) for seq, m in enumerate(messages)])

    async def append_messages(
        self, conversation: Conversation, messages: Sequence[Message], *, expected_leaf_id: str | None
    ) -> None:
        # Compare-and-set on the active leaf, so that a concurrent turn never forks silently.
        before = await self._conversations.find_one_and_update(
            {"_id": conversation.id, "active_leaf_id": expected_leaf_id},
            {
                "$inc": {
                    "message_count": len(messages),
                    "total_tokens": sum(m.tokens for m in messages),
                    "prompt_tokens": sum(m.prompt_tokens for m in messages),
                    "completion_tokens": sum(m.completion_tokens for m in messages),
                    "next_seq": len(messages),
                },
                "$set": {"updated_at": conversation.updated_at, "active_leaf_id": conversation.active_leaf_id},
            },
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            exists = await self._conversations.count_documents({"_id": conversation.id}, limit=1)
            raise (
                TurnConflict("another turn in this conversation was stored first; fetch it and send again")
                if exists
                else ConversationNotFound("conversation not found")
            )
        first = before["next_seq"]
        await self._messages.insert_many([_message_doc(m, first + n) for n, m in enumerate(messages)])

    async def get_conversation(self, user_id: str | None, conversation_id: str) -> Conversation | None:
        query: dict[str, Any] = {"_id": conversation_id}
        if user_id is not None:
            query["user_id"] = user_id
        doc = await self._conversations.find_one(query)
        return None if doc is None else CONVERSATIONS.load(doc)

    async def rename_conversation(self, conversation_id: str, title: str) -> bool:
        return await self._update(conversation_id, {"$set": {"title": title}})

    async def set_active_leaf(self, conversation_id: str, leaf_id: str) -> bool:
        return await self._update(conversation_id, {"$set": {"active_leaf_id": leaf_id}})

    async def save_summary(
        self, conversation_id: str, summary: Summary, prompt_tokens: int, completion_tokens: int
    ) -> bool:
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        return await self._update(
            conversation_id, {"$set": {"summary": CONVERSATIONS.encode("summary", summary)}, "$inc": usage}
        )

    async def _update(self, conversation_id: str, update: dict[str, Any]) -> bool:
        result = await self._conversations.update_one({"_id": conversation_id}, update)
        return bool(result.matched_count)

    async def delete_conversation(self, conversation_id: str) -> bool:
        result = await self._conversations.delete_one({"_id": conversation_id})
        await self._messages.delete_many({"conversation_id": conversation_id})
        return bool(result.deleted_count)

    async def list_conversations(
        self, user_id: str, limit: int, offset: int = 0, after: ListPosition | None = None
    ) -> list[Conversation]:
        query: dict[str, Any] = {"user_id": user_id}
        if after is not None:
            query["$or"] = [
                {"updated_at": {"$lt": after.updated_at}},
                {"updated_at": after.updated_at, "_id": {"$lt": after.id}},
            ]
        cursor = (
            self._conversations.find(query)
            .sort([("updated_at", DESCENDING), ("_id", DESCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [CONVERSATIONS.load(doc) async for doc in cursor]

    async def count_conversations(self, user_id: str) -> int:
        return int(await self._conversations.count_documents({"user_id": user_id}))

    async def list_messages(self, conversation_id: str) -> list[Message]:
        cursor = self._messages.find({"conversation_id": conversation_id}).sort("seq", ASCENDING)
        return [MESSAGES.load(doc) async for doc in cursor]

    async def branch(self, conversation_id: str, leaf_id: str) -> list[Message]:
        # Walk the parent links over ids only, then read just the branch's messages.
        links = self._messages.find({"conversation_id": conversation_id}, {"parent_id": 1})
        parent_of = {doc["_id"]: doc.get("parent_id") async for doc in links}
        path: list[str] = []
        current: str | None = leaf_id if leaf_id in parent_of else None
        while current is not None:
            path.append(current)
            current = parent_of.get(current)
        cursor = self._messages.find({"conversation_id": conversation_id, "_id": {"$in": path}}).sort("seq", ASCENDING)
        return [MESSAGES.load(doc) async for doc in cursor]

    async def get_message(self, conversation_id: str, message_id: str) -> Message | None:
        doc = await self._messages.find_one({"_id": message_id, "conversation_id": conversation_id})
        return None if doc is None else MESSAGES.load(doc)

    async def children(self, conversation_id: str, parent_id: str | None) -> list[Message]:
        query = {"conversation_id": conversation_id, "parent_id": parent_id}
        return [MESSAGES.load(doc) async for doc in self._messages.find(query).sort("seq", ASCENDING)]

    async def ping(self) -> None:
        await self._database.command("ping")
