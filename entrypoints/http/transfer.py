"""/api/v1/conversations: export a conversation (JSON tree or Markdown) and import one."""

from __future__ import annotations

from typing import Literal

import attrs
from dependency_injector.wiring import Provide, inject
from quart import Blueprint, Response
from quart_schema import document_response, validate_querystring, validate_request, validate_response

from botgpt.domain.history import ConversationHistory
from botgpt.domain.transfer import ConversationTransfer
from botgpt.entrypoints.http.conversations_dto import ConversationDetailOut, detail_out
from botgpt.entrypoints.http.fields_dto import UserId
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import OwnerQuery
from botgpt.entrypoints.http.routes import as_caller
from botgpt.entrypoints.transfer_format import ConversationExport, export_document, markdown, tree_from

blueprint = Blueprint("transfer", __name__, url_prefix="/api/v1/conversations")


@attrs.define
class ExportQuery:
    format: Literal["json", "markdown"] = "json"
    user_id: UserId | None = None


@blueprint.get("/<conversation_id>/export")
@operation(
    "Export a conversation",
    also_as={"text/markdown": {"schema": {"type": "string", "description": "With `format=markdown`"}}},
)
@validate_querystring(ExportQuery)
@document_response(ConversationExport)
@as_caller()
@inject
async def export_conversation(
    conversation_id: str,
    query_args: ExportQuery,
    user_id: str | None,
    transfer: ConversationTransfer = Provide["transfer"],
) -> ConversationExport | Response:
    """The conversation as a file. `format=json` (default): the whole tree, every branch, with
    token counts and citations; `POST /import` takes it back. `format=markdown`: the active
    branch as `text/markdown`, citations as footnotes."""
    tree = await transfer.export(user_id, conversation_id)
    if query_args.format == "markdown":
        response = Response(markdown(tree), content_type="text/markdown; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="conversation-{tree.conversation.id}.md"'
        return response
    return export_document(tree)


@blueprint.post("/import")
@operation("Import a conversation")
@validate_querystring(OwnerQuery)
@validate_request(ConversationExport)
@validate_response(ConversationDetailOut, 201)
@as_caller(acts=True, source="query_args")
@inject
async def import_conversation(
    query_args: OwnerQuery,
    data: ConversationExport,
    user_id: str,
    transfer: ConversationTransfer = Provide["transfer"],
    history: ConversationHistory = Provide["history"],
) -> tuple[ConversationDetailOut, int]:
    """Store an export (`GET …/export?format=json`) as a new conversation of the caller, with new
    ids. Malformed or oversized files, repeated ids and missing parents answer 4xx; nothing is stored."""
    conversation = await transfer.import_tree(user_id, tree_from(data))
    return detail_out(await history.get(user_id, conversation.id)), 201
