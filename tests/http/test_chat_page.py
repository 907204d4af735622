"""The chat page is served by the app, from files in the wheel, naming no external host."""

from __future__ import annotations

import re
from pathlib import Path

from quart.typing import TestClientProtocol as Client

from botgpt.entrypoints.http.web import UI, UI_FILES

SVG_NAMESPACE = "http://www.w3.org"
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


async def test_the_page_and_its_assets_are_served_without_a_key_check(client: Client) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/ui/")
        assert (await client.get(url)).status_code == 200
    assert (await client.get("/ui/index.html")).status_code == 404
    assert (await client.get("/ui/..%2Fdocs.py")).status_code == 404


def test_no_asset_names_an_external_host() -> None:
    for path in [UI / "index.html", *(UI / name for name in UI_FILES)]:
        text = Path(path).read_text()
        # The one URL pattern in markdown.js is the rule that recognises links in answers; the
        # SVG namespace is a name, never fetched.
        found = [m for m in EXTERNAL.findall(text) if "\\/" not in m and m != SVG_NAMESPACE]
        assert not found, (path.name, found)


async def test_the_favicon_is_the_pages_svg_icon(client: Client) -> None:
    html = await (await client.get("/")).get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/ui/favicon.svg">' in html
    icon = (UI / "favicon.svg").read_bytes()
    for path in ("/favicon.ico", "/ui/favicon.svg"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["Content-Type"].startswith("image/svg+xml")
        assert await answer.get_data() == icon
