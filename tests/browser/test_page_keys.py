"""With keys in force, the page asks for one, refuses a wrong one and works with the right one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.e2e.servers import Server, serving


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[tuple[Server, str]]:
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


def test_the_key_prompt_refuses_a_wrong_key_and_keeps_the_right_one(browser: Any, keyed_server: Any) -> None:
    server, key = keyed_server
    browser.set_window_size(1280, 800)
    browser.get(server.base + "/")
    wait = WebDriverWait(browser, 20)
    dialog = browser.find_element(By.ID, "key-dialog")
    wait.until(lambda b: dialog.is_displayed())
    screenshot(browser, "key-prompt-1280x800")
    field = browser.find_element(By.ID, "key-input")
    field.send_keys("bgpt_wrong_key\n")
    wait.until(lambda b: "refused" in b.find_element(By.ID, "key-error").text)
    assert dialog.is_displayed()
    field.send_keys(key + "\n")
    wait.until(lambda b: not dialog.is_displayed())
    assert browser.execute_script("return sessionStorage.getItem('botgpt.key')") == key
    assert browser.execute_script("return localStorage.length") == 0  # never kept beyond the tab
    box = browser.find_element(By.ID, "message")
    box.send_keys("with a key\n")
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".message.assistant[data-id]"))
    assert browser.find_elements(By.CSS_SELECTOR, ".message.assistant .body")[-1].text == "echo: with a key"
    browser.execute_script("sessionStorage.clear()")
