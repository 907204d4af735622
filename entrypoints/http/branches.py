"""/api/v1/conversations/{id}: the alternatives at one message, and switching branches."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from botgpt.domain.history import ConversationHistory
from botgpt.entrypoints.http.conversations_dto import (
    ConversationDetailOut,
    SiblingsOut,
    SwitchBranchIn,
    detail_out,
    siblings_out,
)
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.http.routes import as_caller

blueprint = Blueprint("branches", __name__, url_prefix="/api/v1/conversations")


@blueprint.get("/<conversation_id>/messages/<message_id>/siblings")
@operation("List the alternatives at a message")
@validate_querystring(OwnerQuery)
@validate_response(SiblingsOut)
@as_caller()
@inject
async def list_siblings(
    conversation_id: str,
    message_id: str,
    query_args: OwnerQuery,
    user_id: str | None,
    history: ConversationHistory = Provide["history"],
) -> SiblingsOut:
    """The alternatives at one point: the message and every other child of its parent (edits of
    a user message, regenerated answers), oldest first; `active_id` is the one on the active branch."""
    return siblings_out(await history.siblings(user_id, conversation_id, message_id))


@blueprint.put("/<conversation_id>/active")
@operation("Switch the active branch")
@validate_request(SwitchBranchIn)
@validate_response(ConversationDetailOut)
@as_caller()
@inject
async def switch_branch(
    conversation_id: str,
    data: SwitchBranchIn,
    user_id: str | None,
    history: ConversationHistory = Provide["history"],
) -> ConversationDetailOut:
    """Make the branch through `message_id` active. It runs on to that message's newest
    descendant; answers with the conversation and its new active branch."""
    return detail_out(await history.switch_branch(user_id, conversation_id, data.message_id))
