"""/api/v1/conversations: export a conversation (JSON tree or Markdown) and import one."""

from __future__ import annotations

from typing import Literal

import attrs
from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response, request
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from botgpt.domain.errors import InvalidRequest
from botgpt.domain.history import ConversationHistory
from botgpt.domain.transfer import ConversationTransfer
from botgpt.entrypoints.http.conversations_dto import ConversationDetailOut, detail_out
from botgpt.entrypoints.http.identity import IdentityResolver
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.transfer_format import ConversationExport, export_document, markdown, tree_from

blueprint = Blueprint("transfer", __name__, url_prefix="/api/v1/conversations")


@attrs.define
class ExportQuery:
    format: Literal["json", "markdown"] = "json"
    user_id: str | None = None


@blueprint.get("/<conversation_id>/export")
@validate_querystring(ExportQuery)
@document_response(ConversationExport)
@inject
async def export_conversation(
    conversation_id: str,
    query_args: ExportQuery,
    transfer: ConversationTransfer = Provide["transfer"],
    identity: IdentityResolver = Provide["identity"],
) -> ConversationExport | Response:
    """The conversation as a file. `format=json` (default): the whole tree, every branch, with
    token counts and citations; `POST /import` takes it back. `format=markdown`: the active
    branch as `text/markdown`, citations as footnotes."""
    tree = await transfer.export(identity.resolve(request, query_args.user_id), conversation_id)
    if query_args.format == "markdown":
        response = Response(markdown(tree), content_type="text/markdown; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="conversation-{tree.conversation.id}.md"'
        return response
    return export_document(tree)


@blueprint.post("/import")
@validate_querystring(OwnerQuery)
@validate_request(ConversationExport)
@validate_response(ConversationDetailOut, 201)
@inject
async def import_conversation(
    query_args: OwnerQuery,
    data: ConversationExport,
    transfer: ConversationTransfer = Provide["transfer"],
    history: ConversationHistory = Provide["history"],
    identity: IdentityResolver = Provide["identity"],
) -> tuple[ConversationDetailOut, int]:
    """Store an export (`GET …/export?format=json`) as a new conversation of the caller, with new
    ids. Malformed or oversized files, repeated ids and missing parents answer 4xx; nothing is stored."""
    user_id = identity.resolve(request, query_args.user_id)
    if user_id is None:
        raise InvalidRequest("user_id is required to import a conversation")
    conversation = await transfer.import_tree(user_id, tree_from(data))
    return detail_out(await history.get(user_id, conversation.id)), 201
