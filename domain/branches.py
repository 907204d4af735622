"""Pure functions over a conversation's message tree."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from botgpt.domain.errors import InvalidTree
from botgpt.domain.model import Message, Role


def index_by_id(messages: Iterable[Message]) -> dict[str, Message]:
    """The messages keyed by id."""
    return {message.id: message for message in messages}


def path_to(by_id: dict[str, Message], leaf_id: str | None) -> list[Message]:
    """The branch from the root to ``leaf_id``, oldest first (empty for ``None`` or an unknown id)."""
    path: list[Message] = []
    current = by_id.get(leaf_id) if leaf_id else None
    while current is not None:
        path.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return path[::-1]


def children_of(messages: Sequence[Message], parent_id: str | None) -> list[Message]:
    """The messages directly under ``parent_id``, in stored order."""
    return [message for message in messages if message.parent_id == parent_id]


def newest_leaf_under(messages: Sequence[Message], message_id: str) -> str:
    """The leaf reached from ``message_id`` by always taking the newest child: switching to a
    message shows the most recent continuation of it, as chat apps do."""
    current = message_id
    while children := children_of(messages, current):
        current = children[-1].id
    return current


def last_user_index(path: Sequence[Message]) -> int | None:
    """Where the last user message of a branch stands, or None if it has none."""
    for index in range(len(path) - 1, -1, -1):
        if path[index].role is Role.USER:
            return index
    return None


def check_tree(messages: Sequence[Message]) -> None:
    """Raise ``InvalidTree`` unless ids are unique and every parent comes before its child.

    Parents first rules out cycles, so every message lies on a path from a root.
    """
    seen: set[str] = set()
    for message in messages:
        if message.id in seen:
            raise InvalidTree(f"message id {message.id!r} appears twice")
        if message.parent_id is not None and message.parent_id not in seen:
            raise InvalidTree(f"message {message.id!r} names a parent that does not come before it")
        seen.add(message.id)
