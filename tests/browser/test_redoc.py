"""ReDoc at /redoc renders in a real browser from bundled assets only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import requested_urls, screenshot
from tests.e2e.servers import Server


def test_redoc_renders_the_api_without_any_external_request(browser: Any, echo_server: Server) -> None:
    requested_urls(browser)  # forget earlier pages
    browser.get(f"{echo_server.base}/redoc")
    WebDriverWait(browser, 30).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), "/api/v1/conversations")
    )
    screenshot(browser, "redoc-1280x800")
    hosts = {urlparse(url).hostname for url in requested_urls(browser) if not url.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
