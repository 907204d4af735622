"""Starts the engine process, watches it, and restarts it with backoff when it dies or hangs.

The supervisor runs in the process that owns the engine (``botgpt serve``'s main process,
or ``botgpt chat`` / an embedding app). It publishes the engine's state in
``engine.json`` beside the socket, so every HTTP worker can tell ``/ready`` and its clients
why the engine is down without asking the supervisor.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from botgpt.adapters.engine_status import (
    CRASH_LOOP,
    MAX_SOCKET_PATH,
    READY,
    RESTARTING,
    SOCKET_NAME,
    STARTING,
    STATUS_NAME,
    STOPPED,
    ask_status,
    describe_exit,
)

log = logging.getLogger("botgpt.engine")


class EngineSupervisor:
    """Keeps one engine process alive.

    - A death (any signal or exit status) is logged with the child's last output, then the
      engine restarts after a backoff that doubles up to ``max_backoff`` seconds.
    - A hang (a scheduling step running longer than ``stall_seconds``, or no answer to the
      heartbeat for as long) gets the child killed, then restarted the same way.
    - ``crash_loop_after`` deaths in a row before the engine ever became ready are a crash
      loop: reported loudly, and retried at the longest backoff.
    """

    def __init__(
        self,
        config: dict[str, Any],
        run_dir: Path | None = None,
        *,
        stall_seconds: float = 30.0,
        start_timeout: float = 600.0,
        max_backoff: float = 30.0,
        crash_loop_after: int = 3,
    ) -> None:
        self.config = config
        self._own_dir = run_dir is None
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="botgpt-engine-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket_path)) > MAX_SOCKET_PATH:
            raise ValueError(f"engine directory path too long for a Unix socket: {self.run_dir}")
        self.stall_seconds = stall_seconds
        self.start_timeout = start_timeout
        self.max_backoff = max_backoff
        self.crash_loop_after = crash_loop_after
        self._stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)

    @property
    def socket_path(self) -> Path:
        return self.run_dir / SOCKET_NAME

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> None:
        """Start the engine in the background; ``read_status`` follows its progress."""
        self._publish(STARTING)
        self._thread = threading.Thread(target=self._supervise, name="botgpt-engine-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the engine and the supervision; removes a run directory it made itself."""
        self._stop.set()
        self._terminate()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._publish(STOPPED)
        if self._own_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def _supervise(self) -> None:
        failed_starts, restarts = 0, 0
        while not self._stop.is_set():
            became_ready, reason = self._run_once(restarts)
            if self._stop.is_set():
                return
            failed_starts = 0 if became_ready else failed_starts + 1
            restarts += 1
            backoff = min(self.max_backoff, 0.5 * 2 ** max(0, failed_starts - 1))
            self._report(reason, failed_starts, backoff, restarts)
            self._stop.wait(backoff)

    def _run_once(self, restarts: int) -> tuple[bool, str]:
        """One engine's life: start it, watch it while it serves, and say how it ended."""
        try:
            process = self._spawn()
        except OSError as error:  # the interpreter could not even be started
            return False, f"could not start: {error}"
        became_ready = self._wait_until_ready(process)
        if became_ready:
            self._publish(READY, restarts=restarts)
            self._watch(process)
        if self._stop.is_set():
            return became_ready, "stopped"
        return became_ready, self._reap(process, became_ready)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.socket_path.unlink(missing_ok=True)
        self._output.clear()
        command = [sys.executable, "-m", "botgpt.adapters.engine_server", "--socket", str(self.socket_path)]
        command += ["--parent", str(os.getpid())]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("BOTGPT_ENGINE_")}
        # A session of its own: a terminal's Ctrl+C must not stop the engine while the HTTP
        # workers still finish their answers; the supervisor stops it last (and the engine
        # exits by itself if this process dies).
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        self._process = process
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(json.dumps(self.config, default=str).encode())
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        threading.Thread(target=self._copy_output, args=(process,), name="botgpt-engine-log", daemon=True).start()
        log.info("engine starting (pid %d)", process.pid)
        return process

    def _copy_output(self, process: subprocess.Popen[bytes]) -> None:
        """The child's stdout and stderr, faulthandler traces included, into our log."""
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line:
                self._output.append(line)
                log.info("engine[%d]: %s", process.pid, line)

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and not self._stop.is_set():
            if process.poll() is not None:
                return False
            if self.socket_path.exists():
                with contextlib.suppress(OSError, ValueError):
                    ask_status(self.socket_path, timeout=5.0)
                    return True
            self._stop.wait(0.05)
        if not self._stop.is_set():
            log.error("engine did not become ready within %.0f s; killing it", self.start_timeout)
            process.kill()
        return False

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        """Heartbeat until the child exits; kill it if it hangs."""
        silent_since: float | None = None
        while not self._stop.wait(min(1.0, self.stall_seconds / 4)):
            if process.poll() is not None:
                return
            try:
                stalled = float(ask_status(self.socket_path, timeout=self.stall_seconds).get("stalled_for", 0))
                silent_since = None
            except (OSError, ValueError):
                silent_since = silent_since or time.monotonic()
                stalled = time.monotonic() - silent_since
            if stalled > self.stall_seconds:
                log.error("engine (pid %d) made no progress for %.1f s; killing it", process.pid, stalled)
                process.kill()
                process.wait()
                return

    def _reap(self, process: subprocess.Popen[bytes], became_ready: bool) -> str:
        if process.poll() is None:
            process.kill()
        reason = describe_exit(process.wait())
        self.socket_path.unlink(missing_ok=True)
        return reason if became_ready else f"{reason} while starting"

    def _report(self, reason: str, failed_starts: int, backoff: float, restarts: int) -> None:
        last_lines = " | ".join(list(self._output)[-5:]) or "(no output)"
        if failed_starts >= self.crash_loop_after:
            log.error(
                "engine is in a crash loop: it died %d times in a row while starting (last: %s); retrying in %.0f s. "
                "The rest of the API keeps working. Last output: %s",
                failed_starts,
                reason,
                backoff,
                last_lines,
            )
            self._publish(CRASH_LOOP, last_exit=reason, restarts=restarts, retry_in=backoff)
            return
        log.error("engine died (%s); restarting in %.1f s. Last output: %s", reason, backoff, last_lines)
        self._publish(RESTARTING, last_exit=reason, restarts=restarts, retry_in=backoff)

    def _terminate(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _publish(self, state: str, **details: Any) -> None:
        status = {"state": state, "pid": self.pid, "at": time.time(), **details}
        staging = self.run_dir / (STATUS_NAME + ".new")
        with contextlib.suppress(OSError):
            staging.write_text(json.dumps(status), encoding="utf-8")
            os.replace(staging, self.run_dir / STATUS_NAME)
