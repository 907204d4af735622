"""Records derived from attrs fields: what the SQLite and MongoDB stores write reads back the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from botgpt.adapters.mongo_schema import MONGO
from botgpt.adapters.records import Dialect, RecordMap
from botgpt.adapters.sqlite_db import SQLITE
from botgpt.domain.model import (
    ApiKey,
    Citation,
    Conversation,
    Document,
    DocumentStatus,
    Message,
    Mode,
    Role,
    Summary,
)

AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
EXAMPLES: list[Any] = [
    Conversation("c1", "u", "Title", Mode.RAG, AT, AT, ("d1", "d2"), 2, 30, 20, 10, "m2", Summary("gist", "m1", 4)),
    Conversation("c2", "u", "Plain", Mode.OPEN_CHAT, AT, AT),
    Message(
        "m1",
        "c1",
        Role.ASSISTANT,
        "see [1]",
        AT,
        5,
        "smollm",
        10,
        5,
        (Citation("d1", "f.txt", "ch1", 0, 9, 0.5, "x", 1),),
        "m0",
    ),
    Message("m0", "c1", Role.USER, "hi", AT, 1),
    Document("d1", "u", "f.txt", "text/plain", 10, "ab", DocumentStatus.READY, AT, AT, 3, 3, None, "minilm"),
    ApiKey("k1", "u", "bgpt_ab", "hash", AT, AT, 60, None),
    ApiKey("k2", "u", "bgpt_cd", "hash", AT),
]


@pytest.mark.parametrize("dialect", [SQLITE, MONGO], ids=["sqlite", "mongo"])
@pytest.mark.parametrize("item", EXAMPLES, ids=lambda item: f"{type(item).__name__}:{item.id}")
def test_what_is_dumped_loads_back_equal(dialect: Dialect, item: Any) -> None:
    records = RecordMap(type(item), dialect)
    assert records.load(records.dump(item)) == item


def test_sqlite_stores_text_columns_and_mongo_native_values() -> None:
    conversation = EXAMPLES[0]
    row = RecordMap(Conversation, SQLITE).dump(conversation)
    assert row["id"] == "c1" and row["mode"] == "rag_mode"
    assert row["created_at"] == "2026-03-01T12:30:15.123456+00:00"
    assert json.loads(row["document_ids"]) == ["d1", "d2"]
    assert json.loads(row["summary"]) == {"text": "gist", "through_id": "m1", "tokens": 4}
    doc = RecordMap(Conversation, MONGO).dump(conversation)
    assert doc["_id"] == "c1" and "id" not in doc
    assert doc["created_at"] == AT and doc["document_ids"] == ["d1", "d2"]


def test_a_key_written_before_its_field_existed_reads_as_the_default() -> None:
    old = {k: v for k, v in RecordMap(Message, MONGO).dump(EXAMPLES[3]).items() if k not in ("citations", "parent_id")}
    assert RecordMap(Message, MONGO).load(old) == EXAMPLES[3]


def test_timestamps_in_sqlite_sort_in_time_order_across_zones() -> None:
    records = RecordMap(ApiKey, SQLITE)
    east = datetime(2026, 3, 1, 13, 0, tzinfo=datetime.fromisoformat("2026-03-01T00:00+02:00").tzinfo)
    earlier, later = ApiKey("a", "u", "p", "h", east), ApiKey("b", "u", "p", "h", AT)
    assert records.dump(earlier)["created_at"] < records.dump(later)["created_at"]
