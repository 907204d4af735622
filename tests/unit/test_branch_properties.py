"""Properties of the message tree over random sequences of posts, edits, regenerations and
branch switches; and export followed by import keeps the tree's shape."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botgpt.adapters.memory_store import MemoryConversationStore
from botgpt.domain.conversations import ROOT, ConversationService
from botgpt.domain.history import ConversationHistory
from botgpt.domain.model import ConversationTree, Message, Role
from botgpt.domain.policy import ConversationPolicy
from botgpt.domain.transfer import ConversationTransfer
from tests.conftest import SteppingClock
from tests.fakes import ScriptedChatModel, WordCounter

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["post", "edit", "regenerate", "switch"]), st.integers(min_value=0, max_value=10_000)),
    max_size=20,
)


def tree_shape(messages: tuple[Message, ...] | list[Message]) -> list[tuple[str, str, int | None]]:
    """Each message as (role, content, position of its parent): the tree without its ids."""
    position = {message.id: index for index, message in enumerate(messages)}
    return [(m.role.value, m.content, position[m.parent_id] if m.parent_id else None) for m in messages]


class Scenario:
    def __init__(self) -> None:
        self.store = MemoryConversationStore()
        policy = ConversationPolicy(system_prompt="sys", max_answer_tokens=16)
        self.service = ConversationService(
            store=self.store, chat=ScriptedChatModel(), tokens=WordCounter(), policy=policy, clock=SteppingClock()
        )
        self.history = ConversationHistory(self.store, policy)
        self.transfer = ConversationTransfer(self.store, self.history, WordCounter(), clock=SteppingClock())
        self.stored: set[str] = set()

    async def run(self, actions: list[tuple[str, int]]) -> None:
        first = await self.service.start("alice", "q0")
        self.cid = first.conversation.id
        self.stored |= {first.user_message.id, first.assistant_message.id}
        for number, (action, pick) in enumerate(actions, start=1):
            await self.act(action, pick, f"q{number}")
            await self.check()
        await self.check_export_round_trip()

    async def act(self, action: str, pick: int, text: str) -> None:
        everything = await self.store.list_messages(self.cid)
        if action == "switch":
            await self.history.switch_branch("alice", self.cid, everything[pick % len(everything)].id)
            return
        if action == "regenerate":
            turn = await self.service.regenerate("alice", self.cid)
            self.stored.add(turn.assistant_message.id)
            return
        parent = None
        if action == "edit":
            answers = [m.id for m in everything if m.role is Role.ASSISTANT]
            parent = ([ROOT, *answers])[pick % (len(answers) + 1)]
        turn = await self.service.post("alice", self.cid, text, parent_id=parent)
        self.stored |= {turn.user_message.id, turn.assistant_message.id}

    async def check(self) -> None:
        everything = await self.store.list_messages(self.cid)
        # no message is ever lost, and nothing unexpected appears
        assert {m.id for m in everything} == self.stored
        detail = await self.history.get("alice", self.cid)
        branch = detail.messages
        # the active branch is a path from a root to a leaf, and it alternates user/assistant
        assert branch[0].parent_id is None
        assert all(child.parent_id == parent.id for parent, child in itertools.pairwise(branch))
        assert branch[-1].id == detail.conversation.active_leaf_id
        assert not [m for m in everything if m.parent_id == branch[-1].id]
        assert [m.role for m in branch] == [Role.USER, Role.ASSISTANT] * (len(branch) // 2)
        assert detail.conversation.message_count == len(everything)
        await self.check_siblings(everything, {m.id for m in branch})

    async def check_siblings(self, everything: list[Message], on_branch: set[str]) -> None:
        for message in everything:
            siblings = await self.history.siblings("alice", self.cid, message.id)
            expected = [m for m in everything if m.parent_id == message.parent_id]
            assert list(siblings.messages) == expected
            assert siblings.parent_id == message.parent_id
            on_path = [m.id for m in expected if m.id in on_branch]
            parent_on_branch = message.parent_id is None or message.parent_id in on_branch
            assert siblings.active_id == (on_path[0] if on_path else None)
            assert (siblings.active_id is not None) == parent_on_branch

    async def check_export_round_trip(self) -> None:
        exported = await self.transfer.export("alice", self.cid)
        imported = await self.transfer.import_tree("bob", exported)
        again: ConversationTree = await self.transfer.export("bob", imported.id)
        assert tree_shape(again.messages) == tree_shape(exported.messages)
        assert {m.id for m in again.messages}.isdisjoint({m.id for m in exported.messages})
        original = [m.content for m in (await self.history.get("alice", self.cid)).messages]
        assert [m.content for m in (await self.history.get("bob", imported.id)).messages] == original


@given(actions=ACTIONS)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_random_edits_and_regenerations_keep_the_tree_sound(actions: list[tuple[str, int]]) -> None:
    asyncio.run(Scenario().run(actions))
