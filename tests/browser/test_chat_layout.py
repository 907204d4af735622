"""The chat page's layout and finish, in a real headless Chromium at 1280x800 and 390x844:
conversation rows and their ⋯ menu, the Knowledge panel, the phone drawer, the current
conversation's mark, Markdown lists, code copy buttons and the favicon.

Conversations with known content are made with the public import endpoint, as a user with
an export file would; the engine echoes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.browser.test_chat_page import ask
from tests.e2e.servers import Server

NOW = "2025-01-01T00:00:00Z"
LOOSE_LIST = (
    "Steps:\n\n1. Install it\n\n2. Configure it\n   with care\n\n3. Run it\n\nThen, later:\n\n4. Check it\n5. Ship it"
)
CODE = "print('hello')\nfor i in range(3):\n    print(i)"
CODE_ANSWER = f"Try this:\n\n```python\n{CODE}\n```\n\nand `inline` too."


def wait(browser: Any, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


def imported(server: Server, title: str, answer: str = "A plain answer.", as_user: dict[str, str] | None = None) -> str:
    """A stored conversation holding one question and ``answer``, by the import endpoint; owned
    by the server's default user (the request names none, as the page's) unless ``as_user``."""
    export = {
        "format": "botgpt.conversation",
        "version": 1,
        "conversation": {"title": title, "mode": "open_chat", "created_at": NOW, "updated_at": NOW},
        "messages": [
            {"id": "q", "role": "user", "content": "Show me", "created_at": NOW},
            {"id": "a", "parent_id": "q", "role": "assistant", "content": answer, "created_at": NOW},
        ],
    }
    response = httpx.post(f"{server.base}/api/v1/conversations/import", headers=as_user, json=export, timeout=10)
    response.raise_for_status()
    return str(response.json()["conversation"]["id"])


def ready_document(server: Server, name: str, text: str, as_user: dict[str, str] | None = None) -> str:
    """An uploaded document, once ingested; by the server's default user unless ``as_user``."""
    response = httpx.post(
        f"{server.base}/api/v1/documents",
        headers=as_user,
        files={"file": (name, text.encode(), "text/plain")},
        timeout=30,
    )
    response.raise_for_status()
    document_id = str(response.json()["document_id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.base}/api/v1/documents/{document_id}", headers=as_user, timeout=10).json()
        if status["status"] == "ready":
            return document_id
        assert status["status"] != "failed", status
        time.sleep(0.3)
    raise TimeoutError(f"{name} never became ready")


@pytest.fixture(scope="module")
def stocked(echo_server: Server) -> dict[str, str]:
    """Thirty conversations (more than fit the sidebar), two with known content, and a document."""
    for n in range(28):
        imported(echo_server, f"Older conversation {n}")
    ids = {
        "list": imported(echo_server, "Loose list answer", LOOSE_LIST),
        "code": imported(echo_server, "Harbour pilots and tides", CODE_ANSWER),
    }
    ids["document"] = ready_document(echo_server, "tides.txt", "High tide at the harbour is at 6 in the morning.")
    return ids


def load(browser: Any, server: Server, width: int, height: int) -> Any:
    browser.set_window_size(width, height)
    browser.get(server.base + "/")
    wait(browser).until(lambda b: b.execute_script("return document.readyState") == "complete")
    wait(browser).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#conversations li[data-id]")) >= 20)
    return browser


def row(browser: Any, title: str) -> Any:
    for item in browser.find_elements(By.CSS_SELECTOR, "#conversations li[data-id]"):
        if item.find_element(By.CSS_SELECTOR, ".title").get_attribute("textContent") == title:
            return item
    raise AssertionError(f"no row titled {title!r}")


def open_row(browser: Any, title: str) -> None:
    row(browser, title).find_element(By.CSS_SELECTOR, ".title").click()
    wait(browser).until(lambda b: b.find_element(By.ID, "chat-title").text == title)
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".message.assistant[data-id]"))


def marked(browser: Any) -> list[str]:
    script = """return [...document.querySelectorAll('#conversations li.active, #conversations [aria-current]')]
        .map(e => e.closest('li').querySelector('.title').textContent)"""
    return sorted(set(browser.execute_script(script)))


def rect(browser: Any, element: Any) -> dict[str, float]:
    return dict(browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", element))


def test_rows_give_the_title_the_width_and_keep_rename_and_delete_in_a_menu(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    page = load(browser, echo_server, 1280, 800)
    item = row(page, "Harbour pilots and tides")
    title = item.find_element(By.CSS_SELECTOR, ".title")
    assert not item.find_element(By.CSS_SELECTOR, ".rename").is_displayed()
    assert not item.find_element(By.CSS_SELECTOR, ".delete").is_displayed()
    # The whole title shows: it is not clipped, and it has the row's width to itself.
    assert page.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", title)
    assert rect(page, title)["width"] >= rect(page, item)["width"] - 2
    assert title.text == "Harbour pilots and tides"

    ActionChains(page).move_to_element(title).perform()
    toggle = item.find_element(By.CSS_SELECTOR, ".menu-toggle")
    wait(page).until(lambda b: toggle.value_of_css_property("opacity") == "1")
    toggle.click()
    menu = item.find_element(By.CSS_SELECTOR, ".row-menu")
    assert menu.is_displayed() and toggle.get_attribute("aria-expanded") == "true"
    assert [b.text for b in menu.find_elements(By.TAG_NAME, "button")] == ["Rename", "Delete"]
    box = rect(page, menu)
    assert box["left"] >= 0 and box["right"] <= 1280 and box["bottom"] <= page.execute_script("return innerHeight")
    screenshot(page, "row-menu-1280x800")
    page.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait(page).until(lambda b: not menu.is_displayed())
    toggle.click()
    page.find_element(By.ID, "message").click()  # a click elsewhere closes it too
    wait(page).until(lambda b: not menu.is_displayed())


def test_the_drop_zone_is_one_file_control(browser: Any, echo_server: Server, stocked: dict[str, str]) -> None:
    page = load(browser, echo_server, 1280, 800)
    zone = page.find_element(By.ID, "drop-zone")
    field = page.find_element(By.ID, "file-input")
    # The browser's own file button is not drawn; the zone is its label, so a click opens it.
    size = rect(page, field)
    assert size["width"] <= 1 and size["height"] <= 1
    assert page.execute_script("return document.getElementById('drop-zone').control === arguments[0]", field)
    assert "choose one" not in zone.text.lower()
    buttons = [e for e in zone.find_elements(By.CSS_SELECTOR, "*") if e.is_displayed() and "Upload a file" in e.text]
    assert len(buttons) == 1 and buttons[0].get_attribute("class") == "drop-button"
    assert zone.find_elements(By.CSS_SELECTOR, "input") == [field]


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_knowledge_shows_without_scrolling_past_the_conversations(
    browser: Any, echo_server: Server, stocked: dict[str, str], size: tuple[int, int]
) -> None:
    page = load(browser, echo_server, *size)
    if size[0] < 700:
        page.find_element(By.ID, "toggle-sidebar").click()
        wait(page).until(lambda b: b.find_element(By.ID, "sidebar").is_displayed())
    height = page.execute_script("return innerHeight")
    chats = page.find_element(By.CSS_SELECTOR, ".chats")
    # Thirty conversations do not fit: they scroll in their own box, not the sidebar's.
    assert page.execute_script("return arguments[0].scrollHeight > arguments[0].clientHeight", chats)
    sidebar = page.find_element(By.ID, "sidebar")
    assert page.execute_script("return arguments[0].scrollHeight <= arguments[0].clientHeight", sidebar)
    heading = page.find_element(By.ID, "documents-heading")
    assert heading.text.lower() == "knowledge" and rect(page, heading)["bottom"] <= height
    assert rect(page, page.find_element(By.CSS_SELECTOR, ".drop-button"))["bottom"] <= height
    assert page.find_element(By.ID, "documents-count").text == "1"
    screenshot(page, f"knowledge-panel-{size[0]}x{size[1]}")
    # It folds away, and the conversations take the room.
    before = rect(page, chats)["height"]
    page.find_element(By.CSS_SELECTOR, "#knowledge summary").click()
    wait(page).until(lambda b: rect(b, chats)["height"] > before + 100)
    assert not page.find_element(By.ID, "drop-zone").is_displayed()
    page.find_element(By.CSS_SELECTOR, "#knowledge summary").click()


def drawer_open(browser: Any) -> bool:
    return bool(browser.find_element(By.ID, "sidebar").is_displayed())


def open_drawer(browser: Any) -> None:
    browser.find_element(By.ID, "toggle-sidebar").click()
    wait(browser).until(drawer_open)
    assert browser.find_element(By.ID, "toggle-sidebar").get_attribute("aria-expanded") == "true"


def test_on_a_phone_the_sidebar_closes_when_something_is_picked(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    page = load(browser, echo_server, 390, 844)
    assert not drawer_open(page)
    open_drawer(page)
    screenshot(page, "drawer-390x844")
    open_row(page, "Harbour pilots and tides")
    assert not drawer_open(page)
    assert page.find_element(By.CSS_SELECTOR, ".message.assistant").is_displayed()

    open_drawer(page)
    page.find_element(By.CSS_SELECTOR, f"#documents li[data-id='{stocked['document']}'] input").click()
    wait(page).until(lambda b: not drawer_open(b))
    assert "tides.txt" in page.find_element(By.ID, "mode-banner").text
    screenshot(page, "document-picked-390x844")

    open_drawer(page)
    page.find_element(By.ID, "new-conversation").click()
    wait(page).until(lambda b: not drawer_open(b))

    open_drawer(page)  # a tap on the dimmed chat beside the drawer closes it
    ActionChains(page).move_to_element_with_offset(page.find_element(By.ID, "backdrop"), 170, 0).click().perform()
    wait(page).until(lambda b: not drawer_open(b))
    open_drawer(page)
    page.find_element(By.CSS_SELECTOR, f"#documents li[data-id='{stocked['document']}'] input").click()  # untick
    wait(page).until(lambda b: not drawer_open(b))
    width = page.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390


def test_the_open_conversation_is_marked_and_only_it(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    page = load(browser, echo_server, 1280, 800)
    assert marked(page) == []
    open_row(page, "Loose list answer")
    assert marked(page) == ["Loose list answer"]
    page.find_element(By.ID, "new-conversation").click()
    wait(page).until(lambda b: marked(b) == [])
    assert page.find_element(By.ID, "chat-title").text == "New chat"
    assert not page.find_elements(By.CSS_SELECTOR, ".message")
    ask(page, "marking the new one")
    wait(page).until(lambda b: marked(b) == ["marking the new one"])
    open_row(page, "Harbour pilots and tides")
    wait(page).until(lambda b: marked(b) == ["Harbour pilots and tides"])


def test_a_loose_markdown_list_is_one_list_numbered_in_order(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    page = load(browser, echo_server, 1280, 800)
    open_row(page, "Loose list answer")
    body = page.find_element(By.CSS_SELECTOR, ".message.assistant .body")
    lists = body.find_elements(By.TAG_NAME, "ol")
    assert len(lists) == 2  # "Then, later:" is prose between two lists
    first = [li.text for li in lists[0].find_elements(By.CSS_SELECTOR, ":scope > li")]
    assert first == ["Install it", "Configure it\nwith care", "Run it"]
    assert lists[0].get_attribute("start") in (None, "1")
    assert lists[1].get_attribute("start") == "4"  # the second list goes on from 4
    assert [li.text for li in lists[1].find_elements(By.TAG_NAME, "li")] == ["Check it", "Ship it"]
    # The numbers the reader sees, as the browser draws them.
    numbers = page.execute_script(
        "return [...arguments[0].querySelectorAll('ol > li')].map(li => li.parentElement.start +"
        " [...li.parentElement.children].indexOf(li))",
        body,
    )
    assert numbers == [1, 2, 3, 4, 5]
    screenshot(page, "markdown-list-1280x800")


RENDER = """
const done = arguments[arguments.length - 1];
import('/ui/markdown.js').then(m => done(arguments[0].map(s => m.renderMarkdown(s))), e => done(String(e)));
"""


def test_the_renderer_keeps_lists_together_and_markup_escaped(browser: Any, echo_server: Server) -> None:
    browser.get(echo_server.base + "/")
    cases = [
        "1. a\n\n2. b\n\n3. c",
        "- a\n\n- b",
        "7. seven\n8. eight",
        "- a\n  - nested\n- b",
        "1. a\n2. b\n\nprose",
        "- <img src=x onerror=alert(1)>",
        "In 2024. We went",
        "- a\n1. b",
    ]
    html = browser.execute_async_script(RENDER, cases)
    assert html == [
        "<ol><li><p>a</p></li><li><p>b</p></li><li><p>c</p></li></ol>",
        "<ul><li><p>a</p></li><li><p>b</p></li></ul>",
        '<ol start="7"><li>seven</li><li>eight</li></ol>',
        "<ul><li>a<ul><li>nested</li></ul></li><li>b</li></ul>",
        "<ol><li>a</li><li>b</li></ol><p>prose</p>",
        "<ul><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>",
        "<p>In 2024. We went</p>",
        "<ul><li>a</li></ul><ol><li>b</li></ol>",
    ]


def clipboard(browser: Any, reader: str = "navigator.clipboard") -> str:
    script = f"const done = arguments[0]; {reader}.readText().then(done, e => done('ERROR ' + e))"
    return str(browser.execute_async_script(script))


def test_code_blocks_have_a_copy_button_with_a_fallback(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    page = load(browser, echo_server, 1280, 800)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": echo_server.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    open_row(page, "Harbour pilots and tides")
    block = page.find_element(By.CSS_SELECTOR, ".message.assistant .code-block")
    assert block.find_element(By.CSS_SELECTOR, ".code-head").text.startswith("python")
    assert block.find_element(By.TAG_NAME, "pre").text == CODE
    copy = block.find_element(By.CSS_SELECTOR, "button.copy-code")
    assert copy.get_attribute("aria-label") == "Copy code"
    assert not page.find_elements(By.CSS_SELECTOR, ".message.assistant .body > p code + button")  # inline code has none
    page.execute_script("navigator.clipboard.writeText('something else')")
    copy.click()
    wait(page).until(lambda b: copy.text == "Copied")
    assert clipboard(page) == CODE
    screenshot(page, "code-copy-1280x800")

    # Without the Clipboard API (plain http on a LAN address), the older way still copies.
    page.execute_script(
        "window.__clipboard = navigator.clipboard; navigator.clipboard.writeText('something else');"
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined, configurable: true});"
    )
    wait(page).until(lambda b: copy.text == "Copy")
    copy.click()
    wait(page).until(lambda b: copy.text == "Copied")
    assert clipboard(page, "window.__clipboard") == CODE
    assert page.switch_to.active_element == copy  # focus goes back where it was


def test_the_favicon_is_served_and_nothing_the_page_asks_for_is_missing(
    browser: Any, echo_server: Server, stocked: dict[str, str]
) -> None:
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})  # every asset really asked for
    browser.get_log("performance")  # drop what earlier tests asked for
    try:
        load(browser, echo_server, 1280, 800)
        time.sleep(0.5)
    finally:
        browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    statuses = {}
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            statuses[response["url"]] = response["status"]
    # Chromium asks for /favicon.ico on its own (once a session): it used to be the page's one 404.
    assert statuses.get(echo_server.base + "/", 0) == 200
    assert not {url: status for url, status in statuses.items() if status >= 400}
    icon = browser.execute_script("return document.querySelector('link[rel=icon]').href")
    assert icon == echo_server.base + "/ui/favicon.svg"
    svg = Path(__file__).resolve().parents[2].joinpath("entrypoints/http/static/ui/favicon.svg").read_bytes()
    for url in (icon, echo_server.base + "/favicon.ico"):
        answer = httpx.get(url, timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.content == svg
