"""``botgpt`` as a user runs it: a terminal chat that stays clean, and mistakes that are one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.servers import REPO

ECHO = {"BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build"}


Result = subprocess.CompletedProcess[str]


def botgpt(tmp: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> Result:
    environment = {**os.environ, "BOTGPT_DATA_DIR": str(tmp / "data"), "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "botgpt.entrypoints.cli", *args],
        input=stdin, env=environment, capture_output=True, text=True, timeout=180, check=False, cwd=tmp,
    )  # fmt: skip


def one_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("botgpt: "), result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def test_a_piped_chat_answers_runs_commands_and_leaves_cleanly(tmp_path: Path) -> None:
    result = botgpt(tmp_path, "chat", stdin="hi\n/help\n/docs\n/frobnicate\n/new\nagain\n/exit\nnever sent\n", env=ECHO)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # Only the two messages reached the model: commands, known or not, never do.
    assert out.count("bot> ") == 2 and "bot> echo: hi" in out and "bot> echo: again" in out
    assert "/new" in out and "/docs" in out and "/exit" in out  # the help lists the commands
    assert "no documents yet" in out
    assert "unknown command /frobnicate; /help lists the commands" in out
    assert "never sent" not in out
    # The terminal shows the loading notice and nothing else: no log lines, no progress bar,
    # and no summary still running against a closed database.
    assert result.stderr == "loading the model…\n", result.stderr[-3000:]
    log = (tmp_path / "data" / "botgpt.log").read_text()
    assert "engine ready" in log and "closed database" not in log and "failed" not in log


def test_continuing_an_unknown_conversation_fails_before_the_first_prompt(tmp_path: Path) -> None:
    result = botgpt(tmp_path, "chat", "--conversation", "0" * 32, stdin="hi\n", env=ECHO)
    assert result.returncode == 1
    assert "conversation not found" in one_line(result)
    assert "you>" not in result.stdout


def test_a_busy_port_is_one_line_and_nothing_claims_to_serve(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = botgpt(tmp_path, "serve", "--port", str(port), env=ECHO)
    assert result.returncode == 1
    assert one_line(result).startswith(f"botgpt: port {port} on 127.0.0.1 is in use")
    assert "serving on" not in result.stdout


@pytest.mark.parametrize("command", [("serve",), ("chat",), ("keys", "list")])
def test_an_unusable_data_directory_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "file").write_text("not a directory")
    result = botgpt(tmp_path, *command, env={"BOTGPT_DATA_DIR": str(tmp_path / "file" / "data")})
    assert result.returncode == 2
    assert "the data directory" in one_line(result) and "Not a directory" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [("BOTGPT_TEMPERATURE", "hot", "temperature"), ("BOTGPT_CHAT_PROVIDER", "nope", "chat_provider"),
     ("BOTGPT_RERANKER", "nope", "reranker")],
)  # fmt: skip
@pytest.mark.parametrize("command", ["serve", "chat"])
def test_a_bad_setting_is_one_line(tmp_path: Path, variable: str, value: str, named: str, command: str) -> None:
    result = botgpt(tmp_path, command, stdin="hi\n", env={variable: value})
    assert result.returncode == 2
    assert named in one_line(result) and value in result.stderr


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({"BOTGPT_CHAT_PROVIDER": "groq", "GROQ_API_KEY": ""}, "GROQ_API_KEY"),
        (
            {"BOTGPT_CHAT_PROVIDER": "openai", "BOTGPT_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
             "BOTGPT_OPENAI_EXTRA_HEADERS": "{bad"},
            "openai_extra_headers",
        ),
    ],
)  # fmt: skip
def test_a_provider_setting_refused_at_build_is_one_line(
    tmp_path: Path, environment: dict[str, str], reason: str
) -> None:
    result = botgpt(tmp_path, "serve", "--port", "0", env=environment)
    assert result.returncode == 2
    assert reason in one_line(result) and "serving on" not in result.stderr
