"""Conversation turns: start, continue (or branch), regenerate, and stateless turns.

Reading and managing stored conversations is ``history.py``'s job.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from botgpt.domain.branches import last_user_index
from botgpt.domain.clock import utc_now
from botgpt.domain.errors import (
    InvalidRequest,
    ModelFailed,
    ModelUnavailable,
    NothingToRegenerate,
)
from botgpt.domain.grounding import Source, grounded_text
from botgpt.domain.history import message_of, owned_conversation
from botgpt.domain.messages import MessageFactory, with_messages
from botgpt.domain.model import (
    ChatMessage,
    Completion,
    Conversation,
    GenerationOptions,
    Message,
    Mode,
    Role,
    ScopeRequest,
    SearchScope,
    Turn,
)
from botgpt.domain.policy import ConversationPolicy, TitleStrategy
from botgpt.domain.prompting import PromptBuilder
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.sources import Grounding
from botgpt.domain.titles import model_title
from botgpt.domain.turn_telemetry import TurnTrace
from botgpt.domain.turns import AfterTurn, PreparedTurn, Sampling
from botgpt.ports.chat import ChatModel
from botgpt.ports.stores import ConversationStore
from botgpt.ports.telemetry import NO_METRICS, NO_TRACER, Metrics, Tracer
from botgpt.ports.tokens import TokenCounter

log = logging.getLogger(__name__)

# ``parent_id`` that starts a new first message: editing the conversation's opening message.
ROOT = "root"


@attrs.define
class ConversationService:
    """The turn use cases, independent of HTTP, storage and model vendor.

    A turn is atomic: the user's message and the assistant's answer are stored together
    after the model has answered. A failed model call stores nothing, so the client can
    simply send the same message again. Turns extend the active branch, or start a new
    branch from an earlier message (an edit), or add an alternative answer (regenerate).

    Each turn reports its spans, metrics and one log line of timings (``turn_telemetry.py``).
    """

    store: ConversationStore
    chat: ChatModel
    tokens: TokenCounter
    policy: ConversationPolicy = attrs.Factory(ConversationPolicy)
    clock: Callable[[], datetime] = utc_now
    retrieval: RetrievalService | None = None
    after_turn: AfterTurn | None = None
    metrics: Metrics = NO_METRICS
    tracer: Tracer = NO_TRACER

    @property
    def build(self) -> MessageFactory:
        """New conversations and messages, checked against the current policy."""
        return MessageFactory(self.tokens, self.policy, self.clock)

    @property
    def prompts(self) -> PromptBuilder:
        """Prompt packing for the current model and policy."""
        return PromptBuilder(self.chat, self.tokens, self.policy)

    @property
    def grounding(self) -> Grounding:
        """A RAG turn's documents and sources."""
        return Grounding(self.retrieval, self.tokens, self.policy, self.prompts)

    async def start(
        self, user_id: str, text: str, mode: Mode = Mode.OPEN_CHAT, document_ids: Sequence[str] = ()
    ) -> Turn:
        """Create a conversation with its first message and the model's answer."""
        return await self.complete_turn(await self.prepare_start(user_id, text, mode, document_ids))

    async def post(self, user_id: str | None, conversation_id: str, text: str, parent_id: str | None = None) -> Turn:
        """Add a user message to a conversation and store the model's answer."""
        return await self.complete_turn(await self.prepare_post(user_id, conversation_id, text, parent_id))

    async def regenerate(self, user_id: str | None, conversation_id: str) -> Turn:
        """Answer the active branch's last user message again."""
        return await self.complete_turn(await self.prepare_regenerate(user_id, conversation_id))

    async def prepare_start(
        self,
        user_id: str,
        text: str,
        mode: Mode = Mode.OPEN_CHAT,
        document_ids: Sequence[str] = (),
        collection_ids: Sequence[str] = (),
        filters: Mapping[str, Any] | None = None,
    ) -> PreparedTurn:
        """Check everything and build the prompt of a new conversation's first turn.

        Every client error (bad input, unknown or unready documents) surfaces here, before
        the model is called or a stream starts.
        """
        with self._begin().preparing() as trace:
            if not user_id.strip():
                raise InvalidRequest("a user is required: send user_id, or use an API key")
            sources = ScopeRequest(tuple(document_ids), tuple(collection_ids), filters)
            scope = await self.grounding.scope_for_new(user_id, mode, sources)
            conversation = self.build.conversation(user_id, text, mode, sources)
            user_message = self.build.user_message(conversation.id, text, conversation.created_at)
            return await self._prepare(trace, conversation, (), user_message, scope, is_new=True)

    async def prepare_post(
        self, user_id: str | None, conversation_id: str, text: str, parent_id: str | None = None
    ) -> PreparedTurn:
        """Check everything and build the prompt of a follow-up turn.

        Without ``parent_id`` the turn continues the active branch. With the id of an earlier
        assistant message (or ``"root"``) it starts a new branch there: an edit.
        """
        with self._begin().preparing() as trace:
            conversation = await owned_conversation(self.store, user_id, conversation_id)
            parent = await self._parent(conversation, parent_id)
            user_message = self.build.user_message(conversation.id, text, self.clock(), parent)
            scope = await self.grounding.scope_of(conversation)
            history = await self.store.branch(conversation.id, parent) if parent else []
            return await self._prepare(trace, conversation, history, user_message, scope, is_new=False)

    async def prepare_regenerate(self, user_id: str | None, conversation_id: str) -> PreparedTurn:
        """Check everything and build the prompt that answers the active branch's last user
        message again; the new answer will be a sibling of the old one."""
        with self._begin().preparing() as trace:
            conversation = await owned_conversation(self.store, user_id, conversation_id)
            leaf = conversation.active_leaf_id
            path = await self.store.branch(conversation.id, leaf) if leaf else []
            index = last_user_index(path)
            if index is None:
                raise NothingToRegenerate("this conversation has no user message to answer again")
            scope = await self.grounding.scope_of(conversation)
            turn = await self._prepare(trace, conversation, path[:index], path[index], scope, is_new=False)
        # Asking again means wanting another answer: sample more freely than a first answer does.
        temperature = max(self.policy.temperature, self.policy.regenerate_temperature)
        return attrs.evolve(turn, regenerated=True, sampling=Sampling(temperature=temperature))

    async def prepare_stateless(
        self, user_id: str, messages: Sequence[ChatMessage], sources: ScopeRequest | None = None
    ) -> PreparedTurn:
        """A turn over a client-held history (OpenAI style): the last message is the question,
        earlier ones are the history, a leading system message replaces the system prompt.
        With ``sources`` (an empty request: all the user's documents) the answer is grounded.
        Nothing of it is stored."""
        with self._begin().preparing() as trace:
            if not messages or messages[-1].role is not Role.USER:
                raise InvalidRequest("the last message must be the user's")
            mode = Mode.OPEN_CHAT if sources is None else Mode.RAG
            sources = sources or ScopeRequest()
            scope = await self.grounding.scope_for_new(user_id, mode, sources)
            conversation = self.build.conversation(user_id, messages[-1].content, mode, sources)
            now = conversation.created_at
            system = next((m.content for m in messages[:1] if m.role is Role.SYSTEM), None)
            history = [
                self.build.history_message(conversation.id, m, now) for m in messages[:-1] if m.role is not Role.SYSTEM
            ]
            user_message = self.build.user_message(conversation.id, messages[-1].content, now)
            turn = await self._prepare(
                trace, conversation, history, user_message, scope, is_new=False, system=system, stored=False
            )
            return attrs.evolve(turn, stored=False)

    async def complete_turn(self, turn: PreparedTurn) -> Turn:
        """Ask the model for the whole answer, then store the turn."""
        trace = turn.trace
        trace.model_called()
        try:
            completion = await self.chat.complete(turn.prompt, self.generation_options(turn))
            trace.model_answered(completion)
            stored = await self._finish(turn, completion)
        except BaseException as error:
            trace.failed(error, streamed=False)
            raise
        trace.succeeded(streamed=False)
        return stored

    async def stream_turn(self, turn: PreparedTurn) -> AsyncIterator[str | Turn]:
        """Yield the answer's text as it is generated, then the stored ``Turn``, last.

        The turn is stored only once the answer is complete. If the consumer stops early
        (the client went away), generation stops and nothing is stored.
        """
        trace = turn.trace
        trace.model_called()
        try:
            events = self.chat.stream(turn.prompt, self.generation_options(turn))
            completion: Completion | None = None
            async for event in events:
                if isinstance(event, Completion):
                    completion = event
                else:
                    trace.token()
                    yield event
            if completion is None:
                raise ModelUnavailable("the answer stream ended without completing")
            trace.model_answered(completion)
            stored = await self._finish(turn, completion)
        except BaseException as error:  # GeneratorExit too: the client went away
            trace.failed(error, streamed=True)
            raise
        trace.succeeded(streamed=True)
        yield stored

    def generation_options(self, turn: PreparedTurn) -> GenerationOptions:
        """How the model samples this turn's answer: the turn's choices, else the policy's."""
        chosen, cap = turn.sampling, self.policy.max_answer_tokens
        return GenerationOptions(
            max_tokens=cap if chosen.max_tokens is None else min(chosen.max_tokens, cap),
            temperature=self.policy.temperature if chosen.temperature is None else chosen.temperature,
            top_p=chosen.top_p,
            seed=chosen.seed,
            stop=chosen.stop,
        )

    async def _parent(self, conversation: Conversation, parent_id: str | None) -> str | None:
        if parent_id is None:
            return conversation.active_leaf_id
        if parent_id == ROOT:
            return None
        parent = await message_of(self.store, conversation, parent_id)
        if parent.role is Role.USER:
            raise InvalidRequest(f"parent_id must name an assistant message, or be {ROOT!r} to edit the first one")
        return parent.id

    def _begin(self) -> TurnTrace:
        return TurnTrace.begin(self.metrics, self.tracer)

    async def _prepare(
        self, trace: TurnTrace, conversation: Conversation, path: Sequence[Message], user_message: Message,
        scope: SearchScope | None, is_new: bool, system: str | None = None, stored: bool = True,
    ) -> PreparedTurn:  # fmt: skip
        trace.identify(conversation, stored)
        trace.span.set_text("question", user_message.content)
        system, history = self.prompts.system_and_history(path, conversation.summary, system)
        sources: list[Source] = []
        if scope:
            with trace.retrieval():
                sources = await self.grounding.sources(user_message, scope, system)
        final_text = grounded_text(user_message.content, sources) if sources else user_message.content
        prompt = self.prompts.build(system, history, user_message, final_text)
        return PreparedTurn(conversation, user_message, tuple(prompt), tuple(sources), is_new, trace=trace)

    async def _finish(self, turn: PreparedTurn, completion: Completion) -> Turn:
        if not completion.text.strip():
            raise ModelFailed("the model returned an empty answer")
        text, citations = await self.grounding.cite(completion.text, turn.sources)
        answer = self.build.answer(turn.user_message, attrs.evolve(completion, text=text), citations)
        new_messages = (answer,) if turn.regenerated else (turn.user_message, answer)
        conversation = with_messages(turn.conversation, new_messages)
        if not turn.stored:
            return Turn(conversation, turn.user_message, answer)
        if turn.is_new:
            conversation = attrs.evolve(conversation, title=await self._title(turn.user_message.content, conversation))
            await self.store.add_conversation(conversation, new_messages)
        else:
            await self.store.append_messages(
                conversation, new_messages, expected_leaf_id=turn.conversation.active_leaf_id
            )
        if self.after_turn is not None:
            self.after_turn.schedule(conversation)
        return Turn(conversation, turn.user_message, answer)

    async def _title(self, text: str, conversation: Conversation) -> str:
        if self.policy.title_strategy is not TitleStrategy.MODEL:
            return conversation.title
        return await model_title(self.chat, text, conversation.title)
