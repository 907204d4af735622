"""The export file: a versioned JSON document holding a conversation's whole tree, and a
Markdown rendering of its active branch. Shared by the HTTP API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import attrs
import msgspec

from botgpt.domain.branches import index_by_id, path_to
from botgpt.domain.errors import InvalidRequest
from botgpt.domain.grounding import MARKER
from botgpt.domain.model import Citation, Conversation, ConversationTree, FinishReason, Message, Mode, Role, Summary
from botgpt.entrypoints.http.conversations_dto import CitationOut as ExportedCitation

FORMAT = "botgpt.conversation"
VERSION = 1
MAX_ID_CHARS = 128
# Documented as constants, so that clients (and schemathesis) know which files are readable.
FormatName = Annotated[str, msgspec.Meta(extra_json_schema={"const": FORMAT})]
FormatVersion = Annotated[int, msgspec.Meta(extra_json_schema={"const": VERSION})]


@attrs.define
class ExportedMessage:
    id: str
    role: Role
    content: str
    created_at: datetime
    parent_id: str | None = None
    tokens: int = 0
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    citations: list[ExportedCitation] = attrs.Factory(list)
    finish_reason: FinishReason = FinishReason.STOP


@attrs.define
class ExportedSummary:
    text: str
    through_id: str
    tokens: int = 0


@attrs.define
class ExportedConversation:
    title: str
    mode: Mode
    created_at: datetime
    updated_at: datetime
    id: str = ""
    document_ids: list[str] = attrs.Factory(list)
    active_leaf_id: str | None = None
    summary: ExportedSummary | None = None
    message_count: int = 0
    total_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@attrs.define
class ConversationExport:
    """The export file. ``format`` and ``version`` say what reads it."""

    format: FormatName
    version: FormatVersion
    conversation: ExportedConversation
    messages: list[ExportedMessage]


def export_document(tree: ConversationTree) -> ConversationExport:
    """The export file of a conversation's tree."""
    conversation = tree.conversation
    return ConversationExport(
        format=FORMAT,
        version=VERSION,
        conversation=ExportedConversation(
            id=conversation.id,
            title=conversation.title,
            mode=conversation.mode,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            document_ids=list(conversation.document_ids),
            active_leaf_id=conversation.active_leaf_id,
            summary=ExportedSummary(**attrs.asdict(conversation.summary)) if conversation.summary else None,
            message_count=conversation.message_count,
            total_tokens=conversation.total_tokens,
            prompt_tokens=conversation.prompt_tokens,
            completion_tokens=conversation.completion_tokens,
        ),
        messages=[_exported(message) for message in tree.messages],
    )


def _exported(message: Message) -> ExportedMessage:
    fields = attrs.asdict(message, recurse=False)
    del fields["conversation_id"]
    fields["citations"] = [ExportedCitation(**attrs.asdict(citation)) for citation in message.citations]
    return ExportedMessage(**fields)


def parse_export(data: bytes) -> ConversationExport:
    """Read an export file; ``InvalidRequest`` says what is wrong with a malformed one."""
    try:
        return msgspec.json.decode(data, type=ConversationExport)
    except msgspec.ValidationError as error:
        raise InvalidRequest(f"not a botgpt export: {error}") from None
    except msgspec.DecodeError:
        raise InvalidRequest("the file is not valid JSON") from None


def tree_from(document: ConversationExport) -> ConversationTree:
    """The domain's tree of an export file (ids still the file's; the import renews them)."""
    if document.format != FORMAT or document.version != VERSION:
        raise InvalidRequest(f"expected format {FORMAT!r} version {VERSION}")
    exported = document.conversation
    for identifier in [m.id for m in document.messages] + [m.parent_id or "" for m in document.messages]:
        if len(identifier) > MAX_ID_CHARS:
            raise InvalidRequest(f"ids are at most {MAX_ID_CHARS} characters")
    try:
        conversation = Conversation(
            id=exported.id, user_id="", title=exported.title, mode=exported.mode, created_at=exported.created_at,
            updated_at=exported.updated_at, document_ids=tuple(exported.document_ids),
            active_leaf_id=exported.active_leaf_id,
            summary=Summary(**attrs.asdict(exported.summary)) if exported.summary else None,
        )  # fmt: skip
        messages = tuple(_message(item) for item in document.messages)
    except (ValueError, TypeError) as error:
        raise InvalidRequest(f"not a botgpt export: {error}") from None
    return ConversationTree(conversation, messages)


def _message(item: ExportedMessage) -> Message:
    fields = attrs.asdict(item, recurse=False)
    fields["citations"] = tuple(Citation(**attrs.asdict(citation)) for citation in item.citations)
    return Message(conversation_id="", **fields)


def markdown(tree: ConversationTree) -> str:
    """The active branch as Markdown, each answer's citations as footnotes."""
    conversation = tree.conversation
    branch = path_to(index_by_id(tree.messages), conversation.active_leaf_id)
    lines = [f"# {conversation.title}", "", f"*{conversation.mode.value}, {len(branch)} messages*", ""]
    footnotes: list[str] = []
    for message in branch:
        who = "User" if message.role is Role.USER else f"Assistant ({message.model or 'model'})"
        lines += [f"**{who}** · {message.created_at:%Y-%m-%d %H:%M} UTC", "", _with_footnotes(message, footnotes), ""]
    return "\n".join(lines + footnotes).rstrip() + "\n"


def _with_footnotes(message: Message, footnotes: list[str]) -> str:
    labels: dict[int, str] = {}
    for position, citation in enumerate(message.citations, start=1):
        label = f"^{len(footnotes) + 1}"
        labels[citation.number or position] = label
        snippet = " ".join(citation.snippet.split())
        footnotes.append(f"[{label}]: {citation.filename}, characters {citation.start}–{citation.end}: “{snippet}”")
    cited = {n for n in map(int, MARKER.findall(message.content)) if n in labels}
    text = MARKER.sub(lambda m: f"[{labels[int(m[1])]}]" if int(m[1]) in labels else m[0], message.content)
    unmarked = [label for number, label in labels.items() if number not in cited]
    return text + (f"\n\nSources: {' '.join(f'[{label}]' for label in unmarked)}" if unmarked else "")
