"""The botgpt command: keys and settings (serve and chat run in the e2e tests)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from pathlib import Path

import pytest
from dependency_injector import providers

from botgpt.adapters.sqlite_store import open_sqlite_store
from botgpt.entrypoints.cli import _parser, main
from botgpt.entrypoints.container import build_container
from botgpt.entrypoints.http.app import BIND_HOST_VARIABLE, create_app
from botgpt.entrypoints.settings import Settings
from tests.fakes import HashingEmbedder, ScriptedChatModel


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOTGPT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_keys_create_list_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--user", "alice", "--rpm", "30"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("bgpt_")
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "30" in listing and secret not in listing
    prefix = secret.split("_")[1]
    assert main(["keys", "revoke", prefix]) == 0
    assert main(["keys", "revoke", prefix]) == 1
    assert "no active key" in capsys.readouterr().err


def test_bad_settings_exit_with_a_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOTGPT_STORE", "cassandra")
    assert main(["settings"]) == 2
    assert "store" in capsys.readouterr().err


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("127.0.0.1", False)])
async def test_open_mode_on_a_public_address_warns(
    host: str, warned: bool, data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(BIND_HOST_VARIABLE, host)
    container = build_container(Settings.load(environ={}, data_dir=data_dir, store="memory"))
    container.chat_model.override(providers.Object(ScriptedChatModel()))
    container.embedder.override(providers.Object(HashingEmbedder()))
    with caplog.at_level(logging.INFO, logger="botgpt"):
        async with create_app(container).test_app():
            pass
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "open single-user mode" in r.getMessage()]
    assert bool(warnings) is warned


T = "2026-01-01T00:00:"
EXPORT = {
    "format": "botgpt.conversation",
    "version": 1,
    "conversation": {"title": "Trip", "mode": "open_chat", "created_at": T + "00Z",
                     "updated_at": "2026-01-01T00:00:00Z", "active_leaf_id": "a2"},
    "messages": [
        {"id": "u1", "role": "user", "content": "Plan a trip", "created_at": T + "00Z"},
        {"id": "a1", "parent_id": "u1", "role": "assistant", "content": "To where?", "created_at": T + "01Z"},
        {"id": "u2", "parent_id": "a1", "role": "user", "content": "Rome", "created_at": T + "02Z"},
        {"id": "a2", "parent_id": "u2", "role": "assistant", "content": "Rome it is", "created_at": T + "03Z"},
        {"id": "u3", "parent_id": "a1", "role": "user", "content": "Oslo", "created_at": T + "04Z"},
    ],
}  # fmt: skip


def test_import_then_export_keeps_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "trip.json"
    source.write_text(json.dumps(EXPORT))
    assert main(["import", str(source), "--user", "alice"]) == 0
    conversation_id = capsys.readouterr().out.strip()

    assert main(["export", conversation_id, "--user", "alice"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [m["content"] for m in exported["messages"]] == [m["content"] for m in EXPORT["messages"]]
    by_id = {m["id"]: m for m in exported["messages"]}
    assert by_id[exported["conversation"]["active_leaf_id"]]["content"] == "Rome it is"
    assert {m["id"] for m in exported["messages"]}.isdisjoint({"u1", "a1", "u2", "a2", "u3"})

    assert main(["export", conversation_id, "--format", "markdown", "--output", str(tmp_path / "t.md")]) == 0
    markdown = (tmp_path / "t.md").read_text()
    assert markdown.startswith("# Trip") and "Rome it is" in markdown and "Oslo" not in markdown
    assert main(["export", conversation_id, "--user", "bob"]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["{not json", json.dumps({**EXPORT, "messages": EXPORT["messages"][:1] * 2})])
async def test_a_bad_import_file_stores_nothing(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.json"
    source.write_text(content)
    assert await asyncio.to_thread(main, ["import", str(source)]) == 1
    assert capsys.readouterr().err.startswith("botgpt: ")
    assert await asyncio.to_thread(main, ["import", str(tmp_path / "missing.json")]) == 1
    async with open_sqlite_store(tmp_path / "botgpt.sqlite3") as store:
        assert await store.count_conversations("local") == 0


def _parsers(parser: argparse.ArgumentParser, name: str = "botgpt") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


def test_every_option_help_says_what_it_does_and_its_default() -> None:
    for name, parser in _parsers(_parser()):
        for action in parser._actions:
            if not action.option_strings or action.dest == "help":
                continue
            option = f"{name} {action.option_strings[-1]}"
            assert action.help, f"{option} has no description"
            if action.required or isinstance(action, argparse._StoreTrueAction):
                continue
            text = parser.formatter_class(prog=name)._get_help_string(action) or ""  # type: ignore[attr-defined]
            assert "default" in text, f"{option} does not show its default"
    serve = " ".join(dict(_parsers(_parser()))["botgpt serve"].format_help().split())
    assert "(default: 127.0.0.1)" in serve and "(default: 8000)" in serve


def test_settings_never_print_secrets(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTGPT_GROQ_API_KEY", "gsk_0123456789abcdefghij")
    monkeypatch.setenv("BOTGPT_MONGODB_URI", "mongodb://bob:hunter2@db.example:27017/botgpt")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "0123456789abcdefghij" not in out and "hunter2" not in out
    assert "BOTGPT_GROQ_API_KEY=gsk_…(set, 24 characters)" in out
    assert "BOTGPT_MONGODB_URI=mongodb://bob:***@db.example:27017/botgpt" in out
    assert "BOTGPT_GEMINI_API_KEY=\n" in out  # unset stays visibly empty
