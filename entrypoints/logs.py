"""Logging set-up shared by every process botgpt starts."""

from __future__ import annotations

import logging
import os
import sys

from botgpt.entrypoints.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
CHAT_LOG = "botgpt.log"


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level (a no-op if logging is already set up)."""
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)


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
    to_file.setFormatter(logging.Formatter(LOG_FORMAT))
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
