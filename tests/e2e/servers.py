"""Start ``botgpt serve`` as a user does, in a subprocess, and wait for it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running server: its base URL, process and log file."""

    def __init__(self, base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.base, self.process, self.log_path = base, process, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until(self, path: str, status: int = 200, timeout: float = 90.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({self.process.returncode}):\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                response = httpx.get(f"{self.base}{path}", timeout=2)
                if response.status_code == status:
                    return response
            time.sleep(0.1)
        raise TimeoutError(f"{path} never answered {status}:\n{self.log()[-4000:]}")


@contextlib.contextmanager
def serving(tmp: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Iterator[Server]:
    """``botgpt serve`` on a free port with its data in ``tmp``; stopped afterwards."""
    port = free_port()
    log_path = tmp / "server.log"
    environment = {
        **os.environ,
        "BOTGPT_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(REPO),  # the engine process imports the test engines from tests/
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "botgpt.entrypoints.cli", "serve", "--port", str(port), *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp,
        )
    try:
        yield Server(f"http://127.0.0.1:{port}", process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
