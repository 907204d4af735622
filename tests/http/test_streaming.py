"""Streamed answers over Server-Sent Events, read by a real HTTP client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.fakes import ScriptedChatModel

API = "/api/v1/conversations"


def parse(raw: str) -> list[tuple[str, Any]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.fixture
def chat() -> ScriptedChatModel:
    return ScriptedChatModel(answers=["The answer comes word by word.", "Second answer."] * 3)


async def test_deltas_then_the_stored_turn(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        async with client.stream("POST", API, json={"user_id": "alice", "message": "hi", "stream": True}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            raw = "".join([chunk async for chunk in response.aiter_text()])
        events = parse(raw)
        deltas = [data["text"] for name, data in events if name == "delta"]
        assert "".join(deltas) == "The answer comes word by word."
        name, done = events[-1]
        assert name == "done"
        assert done["assistant_message"]["content"] == "The answer comes word by word."
        assert done["assistant_message"]["prompt_tokens"] > 0
        stored = (await client.get(f"{API}/{done['conversation_id']}")).json()
        assert [m["content"] for m in stored["messages"]][1] == "The answer comes word by word."

        follow = await client.post(
            f"{API}/{done['conversation_id']}/messages", json={"message": "more", "stream": True}
        )
        assert parse(follow.text)[-1][1]["assistant_message"]["content"] == "Second answer."


async def test_a_disconnect_stops_generation_and_stores_nothing(live_server: str, chat: ScriptedChatModel) -> None:
    chat.delay = 0.05
    async with httpx.AsyncClient(base_url=live_server) as client:
        async with client.stream("POST", API, json={"user_id": "alice", "message": "hi", "stream": True}) as response:
            async for chunk in response.aiter_text():
                assert "event: delta" in chunk
                break  # the client goes away after the first token
        for _ in range(100):
            if chat.streams_closed_early:
                break
            await asyncio.sleep(0.02)
        assert chat.streams_closed_early == 1
        await asyncio.sleep(0.3)  # longer than the rest of the answer would have taken
        assert (await client.get(f"{API}?user_id=alice")).json()["total"] == 0


async def test_a_failure_mid_stream_is_an_error_event_and_stores_nothing(
    live_server: str, chat: ScriptedChatModel
) -> None:
    chat.fail_after_words = 2
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post(API, json={"user_id": "alice", "message": "hi", "stream": True})
        events = parse(response.text)
        assert [name for name, _ in events] == ["delta", "delta", "error"]
        assert events[-1][1]["error"]["code"] == "model_unavailable"
        assert (await client.get(f"{API}?user_id=alice")).json()["total"] == 0


async def test_bad_input_is_a_plain_json_error_before_any_stream(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        response = await client.post(API, json={"user_id": "alice", "message": "  ", "stream": True})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
        missing = await client.post(f"{API}/{'0' * 32}/messages", json={"message": "hi", "stream": True})
        assert missing.status_code == 404
