"""How an engine's state is told: the supervisor's ``engine.json``, and the engine's own
``status`` reply on its socket."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
from pathlib import Path
from typing import Any

STARTING, READY, RESTARTING, CRASH_LOOP, STOPPED = "starting", "ready", "restarting", "crash_loop", "stopped"
SOCKET_NAME, STATUS_NAME = "engine.sock", "engine.json"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 108 bytes on Linux


def describe_exit(returncode: int) -> str:
    """``signal SIGSEGV`` or ``exit status 1``."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-returncode).name}"
        return f"signal {-returncode}"
    return f"exit status {returncode}"


def read_status(run_dir: Path) -> dict[str, Any]:
    """The state the supervisor last published (``{"state": "starting"}`` before it has)."""
    try:
        status = json.loads((run_dir / STATUS_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": STARTING}
    return status if isinstance(status, dict) else {"state": STARTING}


def ask_status(socket_path: Path, timeout: float) -> dict[str, Any]:
    """The engine's own status over its socket; raises ``OSError`` or ``ValueError``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(b'{"op":"status"}\n')
        with sock.makefile("rb") as reader:
            reply = json.loads(reader.readline())
    if not isinstance(reply, dict) or reply.get("event") != "status":
        raise ValueError("not a status reply")
    return reply
