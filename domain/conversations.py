"""Conversation use cases: start, continue, list, read, rename and delete."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

import attrs

from botgpt.domain.clock import utc_now
from botgpt.domain.context import MIN_MESSAGE_COST, ContextBudget, message_cost, newest_that_fit
from botgpt.domain.cursors import decode_cursor, encode_cursor
from botgpt.domain.errors import (
    ChatModelError,
    ConversationNotFound,
    DocumentsUnavailable,
    InvalidRequest,
    MessageTooLarge,
    ModelFailed,
    ModelUnavailable,
    UnsupportedMode,
)
from botgpt.domain.grounding import Source, citations_for, grounded_text, select_sources
from botgpt.domain.ids import checked_id, new_id
from botgpt.domain.model import (
    ChatMessage,
    Citation,
    Completion,
    Conversation,
    ConversationDetail,
    Document,
    ListPosition,
    Message,
    Mode,
    Page,
    Role,
    Turn,
)
from botgpt.domain.policy import ConversationPolicy, TitleStrategy
from botgpt.domain.retrieval import RetrievalService
from botgpt.domain.titles import clean_model_title, title_from_message
from botgpt.ports.chat import ChatModel
from botgpt.ports.stores import ConversationStore
from botgpt.ports.tokens import TokenCounter

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
# The instruction and "Sources:"/"Question:" labels around a grounded question.
GROUNDING_OVERHEAD_TOKENS = 48
TITLE_PROMPT = (
    "Write a title of at most six words for a chat that starts with the user's message. Reply with the title only."
)


@attrs.frozen
class PreparedTurn:
    """A checked turn, ready for the model: nothing of it is stored yet."""

    conversation: Conversation
    user_message: Message
    prompt: tuple[ChatMessage, ...]
    sources: tuple[Source, ...]
    is_new: bool
    stored: bool = True


@attrs.define
class ConversationService:
    """The conversation use cases, independent of HTTP, storage and model vendor.

    A turn is atomic: the user's message and the assistant's answer are stored together
    after the model has answered. A failed model call stores nothing, so the client can
    simply send the same message again.
    """

    store: ConversationStore
    chat: ChatModel
    tokens: TokenCounter
    policy: ConversationPolicy = attrs.Factory(ConversationPolicy)
    clock: Callable[[], datetime] = utc_now
    retrieval: RetrievalService | None = None

    async def start(
        self, user_id: str, text: str, mode: Mode = Mode.OPEN_CHAT, document_ids: Sequence[str] = ()
    ) -> Turn:
        """Create a conversation with its first message and the model's answer."""
        return await self.complete_turn(await self.prepare_start(user_id, text, mode, document_ids))

    async def post(self, user_id: str | None, conversation_id: str, text: str) -> Turn:
        """Add a user message to a conversation and store the model's answer."""
        return await self.complete_turn(await self.prepare_post(user_id, conversation_id, text))

    async def prepare_start(
        self, user_id: str, text: str, mode: Mode = Mode.OPEN_CHAT, document_ids: Sequence[str] = ()
    ) -> PreparedTurn:
        """Check everything and build the prompt of a new conversation's first turn.

        Every client error (bad input, unknown or unready documents) surfaces here, before
        the model is called or a stream starts.
        """
        if not user_id.strip():
            raise InvalidRequest("a user is required: send user_id, or use an API key")
        documents = await self._documents_for_new(user_id, mode, document_ids)
        now = self.clock()
        conversation = Conversation(
            id=new_id(), user_id=user_id, title=title_from_message(text), mode=mode, created_at=now,
            updated_at=now, document_ids=tuple(d.id for d in documents),
        )  # fmt: skip
        user_message = self._user_message(conversation.id, text, now)
        return await self._prepare(conversation, (), user_message, documents, is_new=True)

    async def prepare_post(self, user_id: str | None, conversation_id: str, text: str) -> PreparedTurn:
        """Check everything and build the prompt of a follow-up turn."""
        conversation = await self._owned(user_id, conversation_id)
        user_message = self._user_message(conversation.id, text, self.clock())
        documents = await self._documents_of(conversation)
        history = await self.store.recent_messages(conversation.id, self._history_fetch_limit())
        return await self._prepare(conversation, history, user_message, documents, is_new=False)

    async def prepare_stateless(
        self, user_id: str, messages: Sequence[ChatMessage], document_ids: Sequence[str] = ()
    ) -> PreparedTurn:
        """A turn over a client-held history (OpenAI style): the last message is the question,
        earlier ones are the history, a leading system message replaces the system prompt.
        Nothing of it is stored."""
        if not messages or messages[-1].role is not Role.USER:
            raise InvalidRequest("the last message must be the user's")
        mode = Mode.RAG if document_ids else Mode.OPEN_CHAT
        documents = await self._documents_for_new(user_id, mode, document_ids)
        now = self.clock()
        conversation = Conversation(
            id=new_id(), user_id=user_id, title=title_from_message(messages[-1].content), mode=mode,
            created_at=now, updated_at=now, document_ids=tuple(d.id for d in documents),
        )  # fmt: skip
        system = next((m.content for m in messages[:1] if m.role is Role.SYSTEM), None)
        history = [self._history_message(conversation.id, m, now) for m in messages[:-1] if m.role is not Role.SYSTEM]
        user_message = self._user_message(conversation.id, messages[-1].content, now)
        turn = await self._prepare(conversation, history, user_message, documents, is_new=False, system=system)
        return attrs.evolve(turn, stored=False)

    def _history_message(self, conversation_id: str, message: ChatMessage, at: datetime) -> Message:
        return Message(
            id=new_id(), conversation_id=conversation_id, role=message.role, content=message.content, created_at=at,
            tokens=self.tokens.count(message.content),
        )  # fmt: skip

    async def complete_turn(self, turn: PreparedTurn) -> Turn:
        """Ask the model for the whole answer, then store the turn."""
        completion = await self.chat.complete(
            turn.prompt, max_tokens=self.policy.max_answer_tokens, temperature=self.policy.temperature
        )
        return await self._finish(turn, completion)

    async def stream_turn(self, turn: PreparedTurn) -> AsyncIterator[str | Turn]:
        """Yield the answer's text as it is generated, then the stored ``Turn``, last.

        The turn is stored only once the answer is complete. If the consumer stops early
        (the client went away), generation stops and nothing is stored.
        """
        events = self.chat.stream(
            turn.prompt, max_tokens=self.policy.max_answer_tokens, temperature=self.policy.temperature
        )
        completion: Completion | None = None
        async for event in events:
            if isinstance(event, Completion):
                completion = event
            else:
                yield event
        if completion is None:
            raise ModelUnavailable("the answer stream ended without completing")
        yield await self._finish(turn, completion)

    async def _prepare(
        self, conversation: Conversation, history: Sequence[Message], user_message: Message,
        documents: Sequence[Document], is_new: bool, system: str | None = None,
    ) -> PreparedTurn:  # fmt: skip
        sources = await self._sources(user_message, documents) if documents else []
        final_text = grounded_text(user_message.content, sources) if sources else user_message.content
        prompt = self.build_prompt(history, user_message, final_text, system)
        return PreparedTurn(conversation, user_message, tuple(prompt), tuple(sources), is_new)

    async def _finish(self, turn: PreparedTurn, completion: Completion) -> Turn:
        if not completion.text.strip():
            raise ModelFailed("the model returned an empty answer")
        citations = citations_for(completion.text, turn.sources)
        assistant_message = self._assistant_message(turn.conversation.id, completion, citations)
        conversation = _with_turn(turn.conversation, turn.user_message, assistant_message)
        messages = (turn.user_message, assistant_message)
        if not turn.stored:
            return Turn(conversation, turn.user_message, assistant_message)
        if turn.is_new:
            conversation = attrs.evolve(
                conversation, title=await self._title(turn.user_message.content, conversation.title)
            )
            await self.store.add_conversation(conversation, messages)
        else:
            await self.store.append_messages(conversation, messages)
        return Turn(conversation, turn.user_message, assistant_message)

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
        """One conversation with its messages, oldest first."""
        conversation = await self._owned(user_id, conversation_id)
        messages = await self.store.list_messages(conversation.id)
        return ConversationDetail(conversation, tuple(messages))

    async def rename(self, user_id: str | None, conversation_id: str, title: str) -> Conversation:
        """Give a conversation a new title."""
        title = " ".join(title.split())
        if not title or len(title) > self.policy.max_title_chars:
            raise InvalidRequest(f"title must be 1 to {self.policy.max_title_chars} characters")
        conversation = await self._owned(user_id, conversation_id)
        if not await self.store.rename_conversation(conversation.id, title):
            raise ConversationNotFound("conversation not found")
        return attrs.evolve(conversation, title=title)

    async def delete(self, user_id: str | None, conversation_id: str) -> None:
        """Delete a conversation together with its messages."""
        conversation = await self._owned(user_id, conversation_id)
        if not await self.store.delete_conversation(conversation.id):
            raise ConversationNotFound("conversation not found")

    async def _owned(self, user_id: str | None, conversation_id: str) -> Conversation:
        checked_id(conversation_id, "conversation id")
        conversation = await self.store.get_conversation(user_id, conversation_id)
        if conversation is None:
            raise ConversationNotFound("conversation not found")
        return conversation

    def _user_message(self, conversation_id: str, text: str, at: datetime) -> Message:
        if not text.strip():
            raise InvalidRequest("message must not be empty")
        if len(text) > self.policy.max_message_chars:
            raise MessageTooLarge(f"message is {len(text)} characters; the limit is {self.policy.max_message_chars}")
        return Message(
            id=new_id(),
            conversation_id=conversation_id,
            role=Role.USER,
            content=text,
            created_at=at,
            tokens=self.tokens.count(text),
        )

    def _assistant_message(
        self, conversation_id: str, completion: Completion, citations: tuple[Citation, ...]
    ) -> Message:
        return Message(
            id=new_id(),
            conversation_id=conversation_id,
            role=Role.ASSISTANT,
            content=completion.text,
            created_at=self.clock(),
            tokens=self.tokens.count(completion.text),
            model=completion.model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            citations=citations,
        )

    def build_prompt(
        self, history: Sequence[Message], user_message: Message, final_text: str | None = None,
        system: str | None = None,
    ) -> list[ChatMessage]:  # fmt: skip
        """The prompt for one turn: system prompt, the newest history that fits, then the
        message (``final_text``, when given, is the message grounded in its sources)."""
        system = self.policy.system_prompt if system is None else system
        final_text = user_message.content if final_text is None else final_text
        final_tokens = user_message.tokens if final_text is user_message.content else self.tokens.count(final_text)
        room = self._budget().history_room(self.tokens.count(system), final_tokens)
        if room < 0:
            raise MessageTooLarge(
                f"message is {user_message.tokens} tokens; it does not fit the model's context window"
            )
        kept = newest_that_fit(history, room, message_cost, self.policy.history_max_messages)
        return [
            ChatMessage(Role.SYSTEM, system),
            *(ChatMessage(message.role, message.content) for message in kept),
            ChatMessage(Role.USER, final_text),
        ]

    def _system_tokens(self) -> int:
        return self.tokens.count(self.policy.system_prompt)

    async def _sources(self, user_message: Message, documents: Sequence[Document]) -> list[Source]:
        assert self.retrieval is not None
        retrieved = await self.retrieval.search_documents(user_message.content, documents, self.policy.rag_top_k)
        room = self._budget().history_room(self._system_tokens(), user_message.tokens + GROUNDING_OVERHEAD_TOKENS)
        budget = min(self.policy.rag_context_tokens, room)
        return select_sources(retrieved, {d.id: d.filename for d in documents}, budget, self.tokens)

    async def _documents_for_new(self, user_id: str, mode: Mode, document_ids: Sequence[str]) -> list[Document]:
        if mode is Mode.OPEN_CHAT:
            if document_ids:
                raise InvalidRequest("document_ids apply only to rag_mode conversations")
            return []
        if self.retrieval is None:
            raise UnsupportedMode("rag_mode is not available: no retrieval is configured")
        return await self.retrieval.ready_documents(user_id, document_ids)

    async def _documents_of(self, conversation: Conversation) -> list[Document]:
        """A RAG conversation's documents that still exist; deleted ones are skipped."""
        if conversation.mode is Mode.OPEN_CHAT or self.retrieval is None:
            return []
        remaining = [
            document_id
            for document_id in conversation.document_ids
            if await self.retrieval.store.get_document(conversation.user_id, document_id) is not None
        ]
        if not remaining:
            raise DocumentsUnavailable("every document of this conversation has been deleted")
        return await self.retrieval.ready_documents(conversation.user_id, remaining)

    def _budget(self) -> ContextBudget:
        return ContextBudget(self.chat.context_window, self.policy.max_answer_tokens, self.policy.safety_margin)

    def _history_fetch_limit(self) -> int:
        # Every message costs at least its template overhead plus one token, so no more
        # than this many can ever fit: the store never has to read a whole long history.
        most_that_fit = self._budget().usable // MIN_MESSAGE_COST + 1
        return min(self.policy.history_max_messages, most_that_fit)

    async def _title(self, text: str, fallback: str) -> str:
        if self.policy.title_strategy is not TitleStrategy.MODEL:
            return fallback
        prompt = [ChatMessage(Role.SYSTEM, TITLE_PROMPT), ChatMessage(Role.USER, text[:2000])]
        try:
            completion = await self.chat.complete(prompt, max_tokens=16, temperature=0.0)
        except ChatModelError:
            # A title is a nicety: the conversation must not fail because of it.
            log.warning("the model could not write a title; using the first message")
            return fallback
        return clean_model_title(completion.text) or fallback


def _with_turn(conversation: Conversation, *messages: Message) -> Conversation:
    return attrs.evolve(
        conversation,
        updated_at=messages[-1].created_at,
        message_count=conversation.message_count + len(messages),
        total_tokens=conversation.total_tokens + sum(m.tokens for m in messages),
        prompt_tokens=conversation.prompt_tokens + sum(m.prompt_tokens for m in messages),
        completion_tokens=conversation.completion_tokens + sum(m.completion_tokens for m in messages),
    )


def _check_page(limit: int, offset: int, cursor: str | None) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidRequest("offset must be >= 0")
    if cursor and offset:
        raise InvalidRequest("give either cursor or offset, not both")
