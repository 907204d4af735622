"""The domain's clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class UtcClock:
    """Now, in UTC, to the millisecond (the precision every store, MongoDB included, keeps),
    and strictly increasing within the process: things created in the same millisecond
    still sort in the order they were created."""

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
