"""/api/v1/usage: what a user has spent, in total and per conversation."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from quart import Blueprint
from quart_schema import validate_querystring, validate_response

from botgpt.domain.history import ConversationHistory
from botgpt.domain.usage import UsageService
from botgpt.entrypoints.http.openapi import operation
from botgpt.entrypoints.http.paging_dto import ListQuery
from botgpt.entrypoints.http.routes import as_caller
from botgpt.entrypoints.http.usage_dto import UsageOut, usage_out

blueprint = Blueprint("usage", __name__, url_prefix="/api/v1")


@blueprint.get("/usage")
@operation("Get usage")
@validate_querystring(ListQuery)
@validate_response(UsageOut)
@as_caller(acts=True)
@inject
async def get_usage(
    query_args: ListQuery,
    user_id: str,
    usage: UsageService = Provide["usage"],
    conversations: ConversationHistory = Provide["history"],
) -> UsageOut:
    """Tokens the user spent: totals (deleted conversations included) and per conversation."""
    page = await conversations.list_conversations(user_id, query_args.limit, query_args.offset, query_args.cursor)
    return usage_out(user_id, await usage.totals(user_id), page)
