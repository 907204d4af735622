"""The domain's clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def wall_now() -> datetime:
    """Now, in UTC: for expiries and rate windows, which must follow real time."""
    return datetime.now(UTC)


class UtcClock:
    """Now, in UTC, to the millisecond (the precision every store, MongoDB included, keeps),
    and strictly increasing within the process: things created in the same millisecond
    still sort in the order they were created.

    Each reading moves at least a millisecond, so it may run ahead of real time under more
    than a thousand readings a second: use it for stored timestamps, ``wall_now`` for time
    windows."""

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        with self._lock:
            self._last = max(now, self._last + timedelta(milliseconds=1))
            return self._last


utc_now = UtcClock()
