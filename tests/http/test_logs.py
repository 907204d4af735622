"""The server's log as JSON lines: every line parses, the lines of a request carry its id, and
each turn has one line with its timings and no message text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from botgpt.domain.errors import ModelUnavailable
from botgpt.entrypoints.logs import JsonFormatter
from tests.fakes import ScriptedChatModel

API = "/api/v1/conversations"
SECRET = "my neighbour's name is Zebulon"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the root logger writes at INFO, formatted as ``botgpt serve`` formats it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]  # each line is one JSON object


async def test_request_lines_carry_the_request_id_and_turn_lines_their_timings(
    client: Client, chat: ScriptedChatModel, json_log: io.StringIO
) -> None:
    chat.answer_next(f"Yes, {SECRET}.")
    whole = await client.post(API, json={"user_id": "alice", "message": SECRET}, headers={"X-Request-ID": "req-a"})
    chat.answer_next("a streamed answer")
    streamed = await client.post(
        API, json={"user_id": "alice", "message": SECRET, "stream": True}, headers={"X-Request-ID": "req-b"}
    )
    chat.fail_next(ModelUnavailable("down"))
    failed = await client.post(API, json={"user_id": "alice", "message": SECRET}, headers={"X-Request-ID": "req-c"})
    assert (whole.status_code, streamed.status_code, failed.status_code) == (201, 200, 503)
    await streamed.get_data()
    logged = lines(json_log)
    assert SECRET not in json_log.getvalue() and "Zebulon" not in json_log.getvalue()
    turns = {line["request_id"]: line for line in logged if line.get("event") == "turn"}
    assert set(turns) == {"req-a", "req-b", "req-c"}
    assert (turns["req-a"]["outcome"], turns["req-b"]["outcome"]) == ("answered", "answered")
    assert turns["req-c"]["outcome"] == "model_unavailable" and turns["req-c"]["provider"] == "none"
    streamed_timings = turns["req-b"]["timings"]
    assert set(streamed_timings) == {
        f"{name}_seconds" for name in ("queue", "retrieval", "first_token", "prefill", "decode", "total")
    }
    assert streamed_timings["first_token_seconds"] >= 0 and streamed_timings["total_seconds"] > 0
    assert turns["req-a"]["tokens"]["completion"] > 0 and turns["req-a"]["conversation_id"]
    access = {line["request_id"]: line for line in logged if line.get("event") == "request"}
    assert access["req-a"]["route"] == API and access["req-a"]["status"] == 201 and access["req-c"]["status"] == 503
    failure = [line for line in logged if line["level"] == "ERROR"]
    assert failure and all(line["request_id"] == "req-c" for line in failure)  # the 503 is logged with its id
