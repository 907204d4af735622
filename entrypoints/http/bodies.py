"""Request bodies that a refusal can wait out.

When a body is refused as too large, Quart stops keeping its bytes, and the server closes the
connection as soon as the 413 is sent. A client that is still sending (``requests``, ``httpx``
and urllib all send the whole body before they read) then meets a reset, a broken pipe,
instead of the 413. So a refused body is read to its end and dropped, within a time bound,
before the answer goes out.
"""

from __future__ import annotations

import asyncio

from quart import Quart, Response, request
from quart.wrappers.request import Body

# Long enough for any client on a working link to finish a body a few times the limit; a
# client that trickles beyond this is cut off, as before.
DRAIN_SECONDS = 15.0


class DrainingBody(Body):
    """A body that keeps noticing what arrives after it was refused, so that its end can be awaited."""

    def append(self, data: bytes) -> None:
        if self._must_raise is None:
            super().append(data)

    async def drained(self, seconds: float) -> bool:
        """Wait until the client has sent the whole body (dropped, not kept); False on timeout."""
        try:
            await asyncio.wait_for(self._complete.wait(), seconds)
        except TimeoutError:
            return False
        return True


async def drain_refused_body(response: Response) -> Response:
    body = request.body
    if response.status_code == 413 and isinstance(body, DrainingBody):
        await body.drained(DRAIN_SECONDS)
    return response


def install_body_draining(app: Quart) -> None:
    """Make 413 answers readable by clients that send the whole body before reading."""
    app.request_class.body_class = DrainingBody
    app.after_request(drain_refused_body)
