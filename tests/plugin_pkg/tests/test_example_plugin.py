"""The example plugin passes botgpt's contract-test kit, like the built-ins do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botgpt_example.openai_compatible import OpenAICompatibleChat
from botgpt_example.paragraphs import ParagraphChunker

from botgpt.plugins.testkit import ChatModelContract, ChunkerContract


class TestParagraphChunker(ChunkerContract):
    def make_chunker(self) -> ParagraphChunker:
        return ParagraphChunker(max_chars=300)


class EchoServer(BaseHTTPRequestHandler):
    """Answers every chat completion with "echo: " and the last message."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = {
            "choices": [{"message": {"role": "assistant", "content": "echo: " + body["messages"][-1]["content"]}}]
        }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="class")
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class TestOpenAICompatibleChat(ChatModelContract):
    expected = "echo: Name a colour please"

    @pytest.fixture(autouse=True)
    def _server(self, echo_server: str) -> None:
        self.url = echo_server

    def make_model(self) -> OpenAICompatibleChat:
        return OpenAICompatibleChat(self.url, "example-model")
