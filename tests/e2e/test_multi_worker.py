"""``botgpt serve --workers 2``: one engine, one model load, a schema made once."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from botgpt.adapters.engine_status import ask_status
from tests.e2e.servers import serving


def processes_with(marker: str) -> list[tuple[int, int]]:
    """(pid, parent pid) of every process whose command line contains ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if marker in command:
            found.append((int(proc.name), parent))
    return found


@pytest.mark.model
def test_two_http_workers_share_one_engine_on_a_fresh_data_directory(tmp_path: Path) -> None:
    engine_dir = tmp_path / "eng"
    env = {"BOTGPT_ENGINE_DIR": str(engine_dir), "BOTGPT_MAX_ANSWER_TOKENS": "16"}
    with serving(tmp_path, env, args=("--workers", "2")) as server:
        server.wait_until("/ready", timeout=120)

        def turn(n: int) -> int:
            body = {"user_id": f"u{n}", "message": f"Say hello to number {n}."}
            return httpx.post(f"{server.base}/api/v1/conversations", json=body, timeout=120).status_code

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(turn, range(6))) == [201] * 6

        engines = processes_with(f"botgpt.adapters.engine_server --socket {engine_dir}")
        assert len(engines) == 1, engines
        assert engines[0][1] == server.process.pid  # supervised by the server's main process
        assert ask_status(engine_dir / "engine.sock", 5.0)["pid"] == engines[0][0]  # the workers reach it
        log = server.log()
        assert log.count("engine ready on") == 1
        workers = {pid for pid, parent in processes_with("spawn_main") if parent == server.process.pid}
        assert len(workers) == 2, log
        assert "already exists" not in log and "Traceback" not in log


def test_a_start_that_fails_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    data = tmp_path / "not-a-directory"
    data.write_text("a file where the data directory should be")
    result = subprocess.run(
        [sys.executable, "-m", "botgpt.entrypoints.cli", "serve", "--port", "0"],
        env={"BOTGPT_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2  # a configuration the user must fix, as for a bad setting
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("botgpt: ") and "not-a-directory" in lines[0], result.stderr
