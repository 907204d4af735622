"""Logging set-up shared by every process botgpt starts.

Servers (``serve`` and its workers, ``worker``, ``engine``, the ASGI module) log one JSON
object a line unless ``log_format = text``: botgpt's lines, hypercorn's and every library's
alike, each with the request id of the request it was logged for. Commands run at a terminal
log text; ``botgpt chat`` writes a readable text file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from botgpt.entrypoints.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
CHAT_LOG = "botgpt.log"
# The request being served in this task (set by the HTTP layer), for every line logged for it.
REQUEST_ID: ContextVar[str | None] = ContextVar("botgpt_request_id", default=None)
# What every LogRecord has; anything else on a record came in ``extra`` and goes in the JSON.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, process, message, the request id
    when there is one, the record's ``extra`` fields, and the exception's trace if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD and key not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def uses_json(settings: Settings, server: bool) -> bool:
    """Whether this process logs JSON: ``log_format``, where ``auto`` means servers do."""
    return settings.log_format == "json" or (settings.log_format == "auto" and server)


def configure_logging(settings: Settings, server: bool = False) -> None:
    """Log to stderr at the configured level, as JSON for a server (``log_format`` decides);
    a no-op if logging is already set up."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    if uses_json(settings, server):
        handler.setFormatter(JsonFormatter())
        # Progress bars are drawn on stderr, beside the log, as lines that are not JSON.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")
        logging.captureWarnings(True)
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def quiet_logging(settings: Settings) -> str:
    """For an interactive terminal: the log goes to a file in the data directory, and the
    terminal shows only botgpt's warnings and anyone's errors. Returns the file's path.

    Libraries' progress bars ("Loading weights") are switched off, and the model engine's
    output (llama.cpp's native log included) reaches the terminal only as log records, so
    it lands in the file as well.
    """
    # Read when huggingface_hub is imported, which happens later, when the embedder loads.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    path = settings.data_dir / CHAT_LOG
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(LOG_FORMAT))
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.setFormatter(logging.Formatter("botgpt: %(levelname)s: %(message)s"))
    to_terminal.addFilter(_worth_interrupting)
    root.addHandler(to_file)
    root.addHandler(to_terminal)
    root.setLevel(settings.log_level)
    logging.captureWarnings(True)
    return str(path)


def _worth_interrupting(record: logging.LogRecord) -> bool:
    if record.levelno >= logging.ERROR:
        return True
    return record.levelno >= logging.WARNING and record.name.split(".")[0] == "botgpt"
