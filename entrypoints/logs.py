"""Logging set-up shared by every process botgpt starts."""

from __future__ import annotations

import logging

from botgpt.entrypoints.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def configure_logging(settings: Settings) -> None:
    """Log to stderr at the configured level (a no-op if logging is already set up)."""
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
