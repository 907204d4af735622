"""/api/v1/conversations: the seed's endpoints, plus rename and cursor paging."""

from __future__ import annotations

import attrs
from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response
from quart_schema import validate_querystring, validate_request, validate_response

from botgpt.domain.conversations import ConversationService
from botgpt.domain.history import ConversationHistory
from botgpt.domain.turns import PreparedTurn
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.accounting import Recorder, usage_recorder
from botgpt.entrypoints.http.auth import spends_tokens
from botgpt.entrypoints.http.conversations_dto import (
    ConversationDetailOut,
    ConversationListOut,
    ConversationOut,
    CreateConversationIn,
    DeletedOut,
    PostMessageIn,
    RegenerateIn,
    RenameIn,
    SamplingIn,
    TurnOut,
    conversation_out,
    detail_out,
    page_out,
    turn_out,
)
from botgpt.entrypoints.http.errors import request_id
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import ListQuery, OwnerQuery
from botgpt.entrypoints.http.routes import as_caller
from botgpt.entrypoints.http.sse import sse_response, turn_events

blueprint = Blueprint("conversations", __name__, url_prefix="/api/v1/conversations")

SERVICE = Provide["conversations"]
HISTORY = Provide["history"]
USAGE = Provide["usage"]


@blueprint.post("")
@operation("Start a conversation", 404, 409, 413)
@validate_request(CreateConversationIn)
@validate_response(TurnOut, 201)
@spends_tokens
@as_caller(acts=True)
@inject
async def create_conversation(
    data: CreateConversationIn,
    user_id: str,
    service: ConversationService = SERVICE,
    usage: UsageService = USAGE,
) -> tuple[TurnOut, int] | Response:
    """Start a conversation with its first message; answers with both messages.
    With `"stream": true` the answer arrives as Server-Sent Events (`delta`, then `done` or `error`).
    `max_tokens`, `temperature`, `top_p`, `seed` and `stop` sample this answer as `/v1` does."""
    prepared = await service.prepare_start(
        user_id, data.message, data.mode, data.document_ids or (), data.collection_ids or (), data.filters
    )
    return await answer(service, sampled(prepared, data), data.stream, usage_recorder(usage))


@blueprint.get("")
@operation("List conversations")
@validate_querystring(ListQuery)
@validate_response(ConversationListOut)
@as_caller(acts=True)
@inject
async def list_conversations(
    query_args: ListQuery,
    user_id: str,
    service: ConversationHistory = HISTORY,
) -> ConversationListOut:
    """The user's conversations, newest first. Page by limit/offset or by next_cursor."""
    page = await service.list_conversations(user_id, query_args.limit, query_args.offset, query_args.cursor)
    return page_out(page)


@blueprint.get("/<not_import:conversation_id>")
@operation("Get a conversation")
@validate_querystring(OwnerQuery)
@validate_response(ConversationDetailOut)
@as_caller()
@inject
async def get_conversation(
    conversation_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    service: ConversationHistory = HISTORY,
) -> ConversationDetailOut:
    """One conversation with the messages of its active branch, oldest first."""
    detail = await service.get(user_id, conversation_id)
    return detail_out(detail)


@blueprint.post("/<conversation_id>/messages")
@operation("Send a message", 409, 413)
@validate_request(PostMessageIn)
@validate_response(TurnOut, 201)
@spends_tokens
@as_caller()
@inject
async def post_message(
    conversation_id: str,
    data: PostMessageIn,
    user_id: str | None,
    service: ConversationService = SERVICE,
    usage: UsageService = USAGE,
) -> tuple[TurnOut, int] | Response:
    """Continue a conversation. A failed model call stores nothing: resend the message.
    With `parent_id` (an earlier assistant message, or `"root"`) the message starts a new branch
    there instead (an edit), and that branch becomes active.
    With `"stream": true` the answer arrives as Server-Sent Events (`delta`, then `done` or `error`).
    `max_tokens`, `temperature`, `top_p`, `seed` and `stop` sample this answer as `/v1` does."""
    prepared = await service.prepare_post(user_id, conversation_id, data.message, data.parent_id)
    return await answer(service, sampled(prepared, data), data.stream, usage_recorder(usage))


@blueprint.post("/<conversation_id>/regenerate")
@operation("Regenerate the last answer", 409)
@validate_request(RegenerateIn)
@validate_response(TurnOut, 201)
@spends_tokens
@as_caller()
@inject
async def regenerate(
    conversation_id: str,
    data: RegenerateIn,
    user_id: str | None,
    service: ConversationService = SERVICE,
    usage: UsageService = USAGE,
) -> tuple[TurnOut, int] | Response:
    """Answer the active branch's last user message again. The new answer is a sibling of the
    old one (which stays, see `/siblings`) and becomes active; 409 if there is no user message.
    With `"stream": true` the answer arrives as Server-Sent Events, as for messages.
    Sampling fields are taken as for messages; `temperature` replaces the regeneration one."""
    prepared = await service.prepare_regenerate(user_id, conversation_id)
    return await answer(service, sampled(prepared, data), data.stream, usage_recorder(usage))


def sampled(prepared: PreparedTurn, asked: SamplingIn) -> PreparedTurn:
    """The turn with the request's sampling over what the service chose (a regenerated
    answer's higher temperature, say)."""
    return attrs.evolve(prepared, sampling=asked.sampling().over(prepared.sampling))


async def answer(
    service: ConversationService, prepared: PreparedTurn, stream: bool, record: Recorder
) -> tuple[TurnOut, int] | Response:
    """The turn as JSON (201) once complete, or as Server-Sent Events while it is generated."""
    if stream:
        return sse_response(turn_events(service, prepared, request_id(), record))
    turn = await service.complete_turn(prepared)
    await record(turn)
    return turn_out(turn), 201


@blueprint.patch("/<not_import:conversation_id>")
@operation("Rename a conversation")
@validate_request(RenameIn)
@validate_response(ConversationOut)
@as_caller()
@inject
async def rename_conversation(
    conversation_id: str,
    data: RenameIn,
    user_id: str | None,
    service: ConversationHistory = HISTORY,
) -> ConversationOut:
    """Rename a conversation."""
    return conversation_out(await service.rename(user_id, conversation_id, data.title))


@blueprint.delete("/<not_import:conversation_id>")
@operation("Delete a conversation")
@validate_querystring(OwnerQuery)
@validate_response(DeletedOut)
@as_caller()
@inject
async def delete_conversation(
    conversation_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    service: ConversationHistory = HISTORY,
) -> DeletedOut:
    """Delete a conversation and every message of every branch."""
    await service.delete(user_id, conversation_id)
    return DeletedOut(
        deleted=True,
        conversation_id=conversation_id,
        message="Conversation and all messages deleted successfully",
    )
