"""The botgpt command: keys and settings (serve and chat run in the e2e tests)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dependency_injector import providers

from botgpt.entrypoints.cli import main
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
