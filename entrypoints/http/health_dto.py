"""Bodies of /health and /ready."""

from __future__ import annotations

import attrs


@attrs.define
class HealthOut:
    status: str
    service: str
    version: str


@attrs.define
class ReadyOut:
    status: str
    checks: dict[str, str]
