"""The chat page as a new user met it, in a real headless Chromium at 1280x800 and 390x844:
whose data it shows without a key (the server's default user), Markdown while an answer
streams, the header's title and token counts, Escape, a long Knowledge list, and an upload
over the server's limit.

The server acts for ``ann`` when a request names no user (``BOTGPT_DEFAULT_USER``), takes
uploads up to 1 MB, and its engine echoes the message verbatim (newlines kept), 40 ms a word.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import screenshot
from tests.browser.test_chat_layout import imported, ready_document, rect
from tests.e2e.servers import Server, serving

BOB = {"X-User-Id": "bob"}
ANN = {"X-User-Id": "ann"}
PHONE, DESKTOP = (390, 844), (1280, 800)
LONG_TITLE = "How do I set up the harbour lights?"
CODE = "\n".join(
    [
        "def add_two(num1, num2):",
        '    """Add two numbers, as the harbour master does."""',
        "    total = num1 + num2",
        "    print('the total is', total)",
        "    return total",
        "",
        "for tide in range(3):",
        "    add_two(tide, 2)",
    ]
)
QUESTION = f"Here is one:\n\n```python\n{CODE}\n```\n\nThat is **all** of it, and it runs as it is."


@pytest.fixture(scope="module")
def ann_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "BOTGPT_ENGINE_FACTORY": "tests.browser.engines:markdown_echo",
        "BOTGPT_DEFAULT_USER": "ann",
        "BOTGPT_MAX_UPLOAD_MB": "1",
    }
    with serving(tmp_path_factory.mktemp("ann"), env) as server:
        server.wait_until("/ready")
        yield server


@pytest.fixture(scope="module")
def stocked(ann_server: Server) -> Server:
    """Ann's conversation and eighteen documents (made naming no user), and Bob's of each."""
    imported(ann_server, LONG_TITLE)
    imported(ann_server, "Bob's private notes", as_user=BOB)
    ready_document(ann_server, "bob-secret.txt", "Bob keeps the spare key under the mat.", as_user=BOB)
    for n in range(18):
        ready_document(ann_server, f"ann-notes-{n:02}.txt", f"Note {n}: the harbour light {n} turns on at dusk.")
    return ann_server


def wait(browser: Any, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


def load(browser: Any, server: Server, size: tuple[int, int]) -> Any:
    browser.set_window_size(*size)
    browser.get(server.base + "/")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#conversations li[data-id]"))
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#documents li[data-id]"))
    return browser


def texts(browser: Any, selector: str) -> list[str]:
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)"
    return list(browser.execute_script(script, selector))


def open_drawer(browser: Any) -> None:
    browser.find_element(By.ID, "toggle-sidebar").click()
    wait(browser).until(lambda b: b.find_element(By.ID, "sidebar").is_displayed())


def open_titled(browser: Any, title: str) -> None:
    rows = browser.find_elements(By.CSS_SELECTOR, "#conversations li[data-id] .title")
    next(r for r in rows if r.get_attribute("textContent") == title).click()
    wait(browser).until(lambda b: b.find_element(By.ID, "chat-title").text == title)
    wait(browser).until(lambda b: b.find_element(By.ID, "usage").text.startswith("This chat:"))


def send(browser: Any, text: str) -> None:
    """Put ``text`` (newlines and all) in the box and press Enter, as after typing it."""
    box = browser.find_element(By.ID, "message")
    browser.execute_script("arguments[0].value = arguments[1]", box, text)
    box.send_keys(Keys.ENTER)


def answered(browser: Any, before: int) -> None:
    finished = ".message.assistant[data-id]"
    wait(browser, 60).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, finished)) > before)


def test_without_a_key_the_page_shows_the_servers_default_users_data(browser: Any, stocked: Server) -> None:
    page = load(browser, stocked, DESKTOP)
    assert LONG_TITLE in texts(page, "#conversations .title")
    assert "Bob's private notes" not in texts(page, "#conversations .title")
    documents = texts(page, "#documents .filename")
    assert "ann-notes-00.txt" in documents and "bob-secret.txt" not in documents
    send(page, "asked from the page")
    answered(page, 0)
    # What the page made is Ann's, as if she had named herself.
    ann = httpx.get(f"{stocked.base}/api/v1/conversations", headers=ANN, timeout=10).json()
    bob = httpx.get(f"{stocked.base}/api/v1/conversations", headers=BOB, timeout=10).json()
    assert "asked from the page" in [c["title"] for c in ann["conversations"]]
    assert "asked from the page" not in [c["title"] for c in bob["conversations"]]


# What the answer looks like, read in one script: the page re-renders it as it grows.
SNAPSHOT = """
const item = [...document.querySelectorAll('#messages .message.assistant')].at(-1);
if (!item) return null;
const pre = item.querySelector('pre');
return {pending: item.classList.contains('pending'), text: item.querySelector('.body').textContent,
        pre: pre && pre.textContent, html: item.querySelector('.body').innerHTML};
"""
# The times at which the answer being streamed was rendered.
WATCH_RENDERS = """
window.__renders = [];
new MutationObserver((mutations) => {
  if (mutations.some((m) => m.target.closest && m.target.closest('.message.assistant.pending')))
    window.__renders.push(performance.now());
}).observe(document.getElementById('messages'), {childList: true, subtree: true});
"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE])
def test_markdown_is_rendered_while_the_answer_streams(browser: Any, stocked: Server, size: tuple[int, int]) -> None:
    page = load(browser, stocked, size)
    page.execute_script(WATCH_RENDERS)
    send(page, QUESTION)
    seen: list[dict[str, Any]] = []
    shot = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        snapshot = page.execute_script(SNAPSHOT)
        if snapshot and not snapshot["pending"] and page.find_elements(By.CSS_SELECTOR, ".message.assistant[data-id]"):
            break
        if snapshot and snapshot["pending"]:
            if not shot and snapshot["pre"] and len(snapshot["pre"]) > 60:
                shot = bool(screenshot(page, f"streaming-code-{size[0]}x{size[1]}"))  # a block half written
            seen.append(snapshot)
        time.sleep(0.05)
    streaming = [s for s in seen if s["text"]]
    assert streaming, "no answer was seen while it streamed"
    # Never the raw source: no fence shown as text, and the code is in a block from its first line.
    assert not [s for s in streaming if "```" in s["text"]]
    assert all(s["pre"] for s in streaming if "def add_two" in s["text"])
    in_progress = [s for s in streaming if s["pre"] and s["pre"] != CODE]
    assert in_progress, "the code block was never seen being written"
    assert all(CODE.startswith(s["pre"].rstrip()) for s in in_progress)
    assert any("<strong>all</strong>" in s["html"] for s in streaming)  # prose after the block is rendered too
    # Rendered about every 100 ms, not at every word (one each 40 ms). (The times are when each
    # render ended, so one that took longer brings the next a little closer.)
    renders = page.execute_script("return window.__renders")
    gaps = [later - earlier for earlier, later in itertools.pairwise(renders)]
    assert len(renders) >= 3 and min(gaps) >= 60, [round(g) for g in gaps]
    assert (renders[-1] - renders[0]) / (len(renders) - 1) >= 95, [round(g) for g in gaps]
    # The finished answer is rendered as the stored message is when the conversation is reopened.
    finished = page.execute_script(SNAPSHOT)
    assert finished["pre"] == CODE and "```" not in finished["text"]
    title = page.find_element(By.ID, "chat-title").text
    if size == PHONE:
        open_drawer(page)
    rows = page.find_elements(By.CSS_SELECTOR, "#conversations li[data-id] .title")
    next(r for r in rows if r.get_attribute("textContent") == title).click()
    wait(page).until(lambda b: b.execute_script(SNAPSHOT)["html"] == finished["html"])


def usage_numbers(browser: Any) -> tuple[int, int, int]:
    text = browser.find_element(By.ID, "usage").get_attribute("textContent")
    found = re.fullmatch(r"This chat: ([\d,]+) tokens · You in total: ([\d,]+) tokens in ([\d,]+) requests?", text)
    assert found, text
    chat, you, requests = (int(n.replace(",", "")) for n in found.groups())
    return chat, you, requests


def test_the_headers_token_counts_measure_the_same_thing_and_say_so(browser: Any, stocked: Server) -> None:
    page = load(browser, stocked, DESKTOP)
    send(page, "counting tokens in a new chat")
    answered(page, 0)
    wait(page).until(lambda b: b.find_element(By.ID, "usage").text.startswith("This chat:"))
    chat, you, requests = usage_numbers(page)
    conversation_id = page.execute_script("return document.querySelector('#conversations li.active').dataset.id")
    stored = httpx.get(f"{stocked.base}/api/v1/conversations/{conversation_id}", timeout=10).json()["conversation"]
    totals = httpx.get(f"{stocked.base}/api/v1/usage", timeout=10).json()["totals"]
    # The chat's figure is its usage (prompt + completion), as the user's is, not its stored size.
    assert chat == stored["prompt_tokens"] + stored["completion_tokens"] > 0
    assert (you, requests) == (totals["prompt_tokens"] + totals["completion_tokens"], totals["requests"])
    explained = page.find_element(By.ID, "usage").get_attribute("title")
    assert f"This chat: {stored['prompt_tokens']:,} read + {stored['completion_tokens']:,} written" in explained
    assert "prompt" in explained and re.search(rf"in {requests:,} requests?\.", explained)

    # Another answer in the same chat adds the same tokens to both figures.
    send(page, "and once more")
    answered(page, 1)
    wait(page).until(lambda b: usage_numbers(b)[2] == requests + 1)
    chat_after, you_after, _ = usage_numbers(page)
    assert chat_after - chat == you_after - you > 0
    screenshot(page, "usage-1280x800")


def test_on_a_phone_the_title_has_the_header_and_the_usage_one_line_under_it(browser: Any, stocked: Server) -> None:
    page = load(browser, stocked, PHONE)
    open_drawer(page)
    open_titled(page, LONG_TITLE)
    title = page.find_element(By.ID, "chat-title")
    usage = page.find_element(By.ID, "usage")
    assert title.text == LONG_TITLE
    assert page.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", title)  # not cut
    line = float(page.execute_script("return parseFloat(getComputedStyle(arguments[0]).lineHeight)", usage) or 0)
    assert usage.text.startswith("This chat:") and rect(page, usage)["height"] <= max(line, 12) * 1.5
    assert rect(page, usage)["top"] >= rect(page, title)["bottom"] - 1  # under the title, not beside it
    assert rect(page, page.find_element(By.CSS_SELECTOR, ".topbar"))["height"] <= 64
    screenshot(page, "header-390x844")
    # On a wide screen the usage sits beside the title, in full.
    page.set_window_size(*DESKTOP)
    wait(page).until(lambda b: rect(b, usage)["top"] < rect(b, title)["bottom"])
    assert re.search(r"in \d+ requests?$", usage.text)
    screenshot(page, "header-1280x800")


def test_escape_closes_only_the_innermost_open_thing(browser: Any, stocked: Server) -> None:
    page = load(browser, stocked, PHONE)
    open_drawer(page)
    item = page.find_element(By.CSS_SELECTOR, "#conversations li[data-id]")
    toggle = item.find_element(By.CSS_SELECTOR, ".menu-toggle")
    toggle.click()
    menu = item.find_element(By.CSS_SELECTOR, ".row-menu")
    wait(page).until(lambda b: menu.is_displayed())
    screenshot(page, "row-menu-390x844")
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(page).until(lambda b: not menu.is_displayed())
    assert page.find_element(By.ID, "sidebar").is_displayed()  # the drawer stays
    assert page.switch_to.active_element == toggle
    page.switch_to.active_element.send_keys(Keys.ESCAPE)  # the next Escape closes the drawer
    wait(page).until(lambda b: not b.find_element(By.ID, "sidebar").is_displayed())

    # A rename field's Escape ends the rename, not the drawer.
    open_drawer(page)
    item = page.find_element(By.CSS_SELECTOR, "#conversations li[data-id]")
    item.find_element(By.CSS_SELECTOR, ".menu-toggle").click()
    item.find_element(By.CSS_SELECTOR, ".rename").click()
    page.find_element(By.CSS_SELECTOR, ".rename-input").send_keys(Keys.ESCAPE)
    wait(page).until(lambda b: not b.find_elements(By.CSS_SELECTOR, ".rename-input"))
    assert page.find_element(By.ID, "sidebar").is_displayed()


CUT_DOCUMENTS = """
const foot = document.getElementById('knowledge').getBoundingClientRect().bottom;
return [...document.querySelectorAll('#documents li')].filter(li => li.getBoundingClientRect().bottom > foot).length;
"""


@pytest.mark.parametrize("size", [DESKTOP, PHONE])
def test_a_knowledge_list_that_scrolls_says_so(browser: Any, stocked: Server, size: tuple[int, int]) -> None:
    page = load(browser, stocked, size)
    if size == PHONE:
        open_drawer(page)
    panel = page.find_element(By.ID, "knowledge")
    cue = page.find_element(By.ID, "documents-more")
    wait(page).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#documents li")) >= 18)
    assert page.execute_script("return arguments[0].scrollHeight > arguments[0].clientHeight", panel)
    wait(page).until(lambda b: cue.is_displayed())
    cut = page.execute_script(CUT_DOCUMENTS)
    shown = int(re.fullmatch(r"(\d+) more ↓", cue.text).group(1))  # type: ignore[union-attr]
    assert cut >= 1 and cut <= shown <= cut + 1, (cut, shown)  # those cut off, and one under the fade
    assert rect(page, cue)["bottom"] <= rect(page, panel)["bottom"]  # the cue itself is in view
    screenshot(page, f"knowledge-more-{size[0]}x{size[1]}")
    before = page.execute_script("return arguments[0].scrollTop", panel)
    cue.click()  # it scrolls the list on
    wait(page).until(lambda b: b.execute_script("return arguments[0].scrollTop", panel) > before + 50)
    page.execute_script("arguments[0].scrollTop = arguments[0].scrollHeight", panel)
    wait(page).until(lambda b: not cue.is_displayed())  # at the end, nothing more to say
    assert page.execute_script(CUT_DOCUMENTS) == 0
    screenshot(page, f"knowledge-end-{size[0]}x{size[1]}")


def refused_message(server: Server, path: Path) -> str:
    with path.open("rb") as body:
        answer = httpx.post(f"{server.base}/api/v1/documents", files={"file": (path.name, body)}, timeout=60)
    assert answer.status_code == 413, answer.text
    return str(answer.json()["error"]["message"])


@pytest.mark.parametrize("megabytes", [1.01, 3])
def test_an_upload_over_the_limit_names_the_file_and_the_limit(
    browser: Any, stocked: Server, tmp_path: Path, megabytes: float
) -> None:
    big = tmp_path / "big-notes.txt"
    line = b"The harbour light turns on at dusk and off at dawn, every day of the year.\n"
    big.write_bytes(line * int(megabytes * (1 << 20) / len(line)))
    # Just over the limit, the server reads the file and refuses it ("upload_too_large"); well
    # over, it refuses the request body ("payload_too_large"). Either message may name the limit.
    limit = "the 1 MB" if "1 MB" in refused_message(stocked, big) else "the server's"
    page = load(browser, stocked, PHONE if megabytes > 2 else DESKTOP)
    page.find_element(By.ID, "file-input").send_keys(str(big))
    status = page.find_element(By.ID, "status")
    wait(page, 60).until(lambda b: status.get_attribute("data-kind") == "error")
    assert status.text == f"big-notes.txt is larger than {limit} upload limit."
    if megabytes < 2:
        assert limit == "the 1 MB"  # the service's own refusal names it
    screenshot(page, f"upload-too-large-{'390x844' if megabytes > 2 else '1280x800'}")
