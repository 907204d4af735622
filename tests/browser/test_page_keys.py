"""With keys in force, the page asks for one, refuses a wrong one and works with the right one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.e2e.servers import Server, serving


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    tmp_path = tmp_path_factory.mktemp("keyed")
    env = {"BOTGPT_ENGINE_FACTORY": "botgpt.adapters.echo_engine:build"}
    with serving(tmp_path, env) as server:
        server.wait_until("/ready")
        created = subprocess.run(
            [sys.executable, "-m", "botgpt.entrypoints.cli", "keys", "create", "--user", "alice"],
            env={**os.environ, "BOTGPT_DATA_DIR": str(tmp_path / "data")},
            capture_output=True,
            text=True,
            check=True,
        )
        time.sleep(2.5)  # the server notices a key made by another process within 2 s
        yield server, created.stdout.strip()


GAP = """
const [upper, lower] = [document.querySelector(arguments[0]), document.querySelector(arguments[1])];
const margins = parseFloat(getComputedStyle(upper).marginBottom) + parseFloat(getComputedStyle(lower).marginTop);
return Math.round(lower.getBoundingClientRect().top - upper.getBoundingClientRect().bottom - margins);
"""


def gap(browser: Any, upper: str, lower: str) -> int:
    """The space between two elements beyond what their own margins ask for: the dialog's
    spacing between lines, and more where an empty line sits between them."""
    return int(browser.execute_script(GAP, upper, lower))


def test_the_key_prompt_refuses_a_wrong_key_and_keeps_the_right_one(browser: Any, keyed_server: Any) -> None:
    server, key = keyed_server
    browser.set_window_size(1280, 800)
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 20)
    dialog = browser.find_element(By.ID, "key-dialog")
    wait.until(lambda b: dialog.is_displayed())
    # No error yet, so no line for one: the explanation is followed by the field's label.
    error = browser.find_element(By.ID, "key-error")
    intro = "#key-dialog p:first-of-type"
    assert gap(browser, intro, "label[for=key-input]") == gap(browser, "#key-dialog h2", intro)
    screenshot(browser, "key-prompt-1280x800")
    field = browser.find_element(By.ID, "key-input")
    field.send_keys("bgpt_wrong_key\n")
    wait.until(lambda b: "refused" in error.text)
    assert dialog.is_displayed() and error.is_displayed()
    screenshot(browser, "key-refused-1280x800")
    field.send_keys(key + "\n")
    wait.until(lambda b: not dialog.is_displayed())
    assert browser.execute_script("return sessionStorage.getItem('botgpt.key')") == key
    assert browser.execute_script("return localStorage.length") == 0  # never kept beyond the tab
    box = browser.find_element(By.ID, "message")
    box.send_keys("with a key\n")
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".message.assistant[data-id]"))
    assert browser.find_elements(By.CSS_SELECTOR, ".message.assistant .body")[-1].text == "echo: with a key"
    browser.execute_script("sessionStorage.clear()")


def test_the_key_prompt_fits_a_phone(browser: Any, keyed_server: Any) -> None:
    server, _ = keyed_server
    browser.execute_script("sessionStorage.clear()")
    browser.set_window_size(390, 844)
    browser.get(server.base + "/")
    dialog = browser.find_element(By.ID, "key-dialog")
    WebDriverWait(browser, 20).until(lambda b: dialog.is_displayed())
    box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", dialog)
    assert box["left"] >= 0 and box["right"] <= 390
    assert not browser.find_element(By.ID, "key-error").is_displayed()
    screenshot(browser, "key-prompt-390x844")
    browser.set_window_size(1280, 800)


def test_with_keys_the_icons_and_the_docs_pages_need_none(browser: Any, keyed_server: Any) -> None:
    server, _ = keyed_server
    for path in ("/favicon.ico", "/ui/favicon.svg"):
        answer = httpx.get(server.base + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml"), path
    assert httpx.get(server.base + "/api/v1/documents", timeout=10).status_code == 401  # data still needs one
    browser.set_window_size(1280, 800)
    for path, shown in (("/docs", ".opblock"), ("/redoc", "[data-section-id]")):
        browser.get_log("browser")  # forget earlier pages
        browser.get(server.base + path)
        WebDriverWait(browser, 30).until(lambda b, shown=shown: b.find_elements(By.CSS_SELECTOR, shown))
        time.sleep(1)  # the browser asks for /favicon.ico on its own, after the page
        errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, (path, errors)
