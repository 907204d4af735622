"""The chat page at /, driven in a real headless Chromium as a person would drive it.

The server is real; its engine echoes (``echo: <your message>``), so answers are known.
Screenshots at 1280x800 and 390x844 land in ``.artifacts/screenshots``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as when
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import screenshot
from tests.e2e.servers import Server

XSS = ["<img src=x onerror=alert(1)>", "<script>window.__xss = 1; alert(2)</script>"]


def wait(browser: Any, seconds: float = 20) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


@pytest.fixture
def page(browser: Any, echo_server: Server) -> Any:
    browser.set_window_size(1280, 800)
    browser.get(echo_server.base + "/")
    wait(browser).until(lambda b: b.execute_script("return document.readyState") == "complete")
    return browser


def ask(browser: Any, text: str) -> Any:
    """Type a message, press Enter, and wait for the streamed answer to finish and be shown as
    stored (the page reloads the conversation then: stored messages carry their id)."""
    finished = ".message.assistant[data-id]"
    before = len(browser.find_elements(By.CSS_SELECTOR, finished))
    box = browser.find_element(By.ID, "message")
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait(browser, 60).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, finished)) > before)
    return browser.find_elements(By.CSS_SELECTOR, ".message.assistant")[-1]


def sidebar_titles(browser: Any) -> list[str]:
    # Read in one script: the list is re-rendered after every change.
    script = "return [...document.querySelectorAll('#conversations .title')].map(e => e.textContent)"
    return list(browser.execute_script(script))


def test_a_conversation_streams_then_is_renamed_and_deleted(page: Any) -> None:
    page.find_element(By.ID, "new-conversation").click()
    box = page.find_element(By.ID, "message")
    box.send_keys("first line")
    box.send_keys(Keys.SHIFT, Keys.ENTER)  # Shift+Enter adds a line; nothing is sent
    box.send_keys("second line")
    assert box.get_attribute("value") == "first line\nsecond line"
    assert not page.find_elements(By.CSS_SELECTOR, ".message")
    answer = ask(page, "hello there lighthouse")
    assert answer.find_element(By.CSS_SELECTOR, ".body").text == "echo: hello there lighthouse"
    screenshot(page, "chat-1280x800")
    wait(page).until(lambda b: "hello there lighthouse" in " ".join(sidebar_titles(b)))
    assert "This chat:" in page.find_element(By.ID, "usage").text

    item = page.find_element(By.CSS_SELECTOR, "#conversations li.active")
    item.find_element(By.CSS_SELECTOR, ".menu-toggle").click()  # Rename and Delete wait in the ⋯ menu
    item.find_element(By.CSS_SELECTOR, ".rename").click()
    field = page.find_element(By.CSS_SELECTOR, ".rename-input")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Renamed in the browser", Keys.ENTER)
    wait(page).until(lambda b: "Renamed in the browser" in sidebar_titles(b))

    item = page.find_element(By.CSS_SELECTOR, "#conversations li.active")
    item.find_element(By.CSS_SELECTOR, ".menu-toggle").click()
    delete = item.find_element(By.CSS_SELECTOR, ".delete")
    delete.click()
    delete.click()  # the second click confirms
    wait(page).until(lambda b: "Renamed in the browser" not in sidebar_titles(b))
    assert not page.find_elements(By.CSS_SELECTOR, ".message")


def versions(browser: Any, role: str) -> str:
    script = f"return [...document.querySelectorAll('.message.{role} .siblings')].map(e => e.textContent).join('|')"
    return str(browser.execute_script(script))


def test_regenerate_edit_and_switch_between_versions(page: Any) -> None:
    page.find_element(By.ID, "new-conversation").click()
    ask(page, "tell me about lighthouses")
    page.find_element(By.CSS_SELECTOR, ".message.assistant .regenerate").click()
    wait(page, 60).until(lambda b: "2/2" in versions(b, "assistant"))
    page.find_element(By.CSS_SELECTOR, ".message.assistant .siblings .previous").click()
    wait(page).until(lambda b: "1/2" in versions(b, "assistant"))

    page.find_element(By.CSS_SELECTOR, ".message.user .edit").click()
    editor = page.find_element(By.CSS_SELECTOR, ".edit-input")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys("tell me about harbours")
    page.find_element(By.CSS_SELECTOR, ".save-edit").click()
    wait(page, 60).until(lambda b: "2/2" in versions(b, "user"))
    bodies = [e.text for e in page.find_elements(By.CSS_SELECTOR, ".message .body")]
    assert bodies == ["tell me about harbours", "echo: tell me about harbours"]
    screenshot(page, "branches-1280x800")
    page.find_element(By.CSS_SELECTOR, ".message.user .siblings .previous").click()
    wait(page).until(lambda b: "1/2" in versions(b, "user"))
    bodies = [e.text for e in page.find_elements(By.CSS_SELECTOR, ".message .body")]
    assert bodies == ["tell me about lighthouses", "echo: tell me about lighthouses"]


def test_stop_cancels_the_answer_and_stores_nothing(page: Any) -> None:
    page.find_element(By.ID, "new-conversation").click()
    before = sidebar_titles(page)
    box = page.find_element(By.ID, "message")
    long_message = " ".join(f"word{n}" for n in range(400))  # the echo takes seconds
    box.send_keys(long_message, Keys.ENTER)
    wait(page).until(lambda b: "word5" in b.find_element(By.CSS_SELECTOR, ".message.assistant").text)
    page.find_element(By.ID, "stop").click()
    wait(page).until(when.text_to_be_present_in_element((By.ID, "status"), "Stopped"))
    assert box.get_attribute("value") == long_message  # back in the box, ready to resend
    time.sleep(0.5)
    page.refresh()
    wait(page).until(lambda b: b.execute_script("return document.readyState") == "complete")
    time.sleep(0.5)
    assert sidebar_titles(page) == before


def test_markup_in_messages_shows_as_text_and_runs_nothing(page: Any) -> None:
    page.find_element(By.ID, "new-conversation").click()
    for attack in XSS:
        answer = ask(page, attack)
        assert attack in answer.text  # the echo repeats it, rendered as text
    bubbles = page.find_elements(By.CSS_SELECTOR, ".message")
    assert not [b for b in bubbles if b.find_elements(By.CSS_SELECTOR, "img, script")]
    with pytest.raises(NoAlertPresentException):
        page.switch_to.alert.text  # noqa: B018 (reading it is the check)
    assert page.execute_script("return window.__xss") is None
    # Reopened from the store, the history is rendered the same safe way.
    page.find_element(By.CSS_SELECTOR, "#conversations li.active .title").click()
    wait(page).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".message")) == 4)
    assert page.execute_script("return window.__xss") is None
    assert not page.find_elements(By.CSS_SELECTOR, ".messages img, .messages script")


def test_upload_wait_for_ready_then_ask_and_open_a_citation(page: Any, tmp_path: Path) -> None:
    document = tmp_path / "panthers.txt"
    document.write_text(
        "The Panthers defense gave up just 308 points, ranking sixth in the league.\n\n"
        "Kawann Short led the team in sacks with 11."
    )
    page.find_element(By.ID, "file-input").send_keys(str(document))
    wait(page, 60).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#documents li[data-status='ready'] input:not([disabled])")
    )
    page.find_element(By.CSS_SELECTOR, "#documents li[data-status='ready'] input").click()
    assert "panthers.txt" in page.find_element(By.ID, "mode-banner").text
    answer = ask(page, "How many points did the Panthers give up?")
    chips = answer.find_elements(By.CSS_SELECTOR, ".cite-chip")
    assert chips and chips[0].text.startswith("[1] panthers.txt")
    chips[0].click()
    dialog = page.find_element(By.ID, "citation-dialog")
    wait(page).until(lambda b: dialog.is_displayed())
    assert "308 points" in page.find_element(By.ID, "citation-snippet").text
    where = page.find_element(By.ID, "citation-where").text
    assert re.search(r"characters \d+–\d+", where) and re.search(r"support \d\.\d\d \((not )?supported\)", where)
    assert re.search(r"relevance [01]\.\d\d", where)  # on the 0-1 scale the dialog explains
    assert "0–1" in page.find_element(By.ID, "citation-scale").text
    marked = page.find_elements(By.CSS_SELECTOR, "#citation-snippet mark")
    assert marked and "308 points" in marked[0].text  # the sentence that supports the answer
    screenshot(page, "citation-1280x800")
    dialog.find_element(By.TAG_NAME, "button").click()


def test_a_file_dropped_on_the_drop_zone_is_uploaded(page: Any) -> None:
    # A drop as the browser delivers it: a DataTransfer holding a File.
    page.execute_script(
        """
        const file = new File(["Lighthouses guide ships at night."], "dropped.txt", {type: "text/plain"});
        const transfer = new DataTransfer();
        transfer.items.add(file);
        const zone = document.getElementById("drop-zone");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        """
    )
    wait(page, 60).until(
        lambda b: (
            "dropped.txt" in b.find_element(By.ID, "documents").text
            and b.find_elements(By.CSS_SELECTOR, "#documents li[data-status='ready']")
        )
    )


def test_an_unsupported_upload_is_explained_in_words(page: Any, tmp_path: Path) -> None:
    binary = tmp_path / "program.exe"
    binary.write_bytes(b"MZ\x90\x00" + bytes(range(256)) * 4)
    page.find_element(By.ID, "file-input").send_keys(str(binary))
    wait(page).until(lambda b: b.find_element(By.ID, "status").get_attribute("data-kind") == "error")
    assert "not supported" in page.find_element(By.ID, "status").text


def test_the_page_works_on_a_phone_sized_screen(page: Any) -> None:
    page.set_window_size(390, 844)
    page.refresh()
    wait(page).until(lambda b: b.execute_script("return document.readyState") == "complete")
    assert not page.find_element(By.ID, "sidebar").is_displayed()
    answer = ask(page, "small screen")
    assert answer.find_element(By.CSS_SELECTOR, ".body").text == "echo: small screen"
    width = page.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    screenshot(page, "chat-390x844")
    page.find_element(By.ID, "toggle-sidebar").click()
    wait(page).until(lambda b: b.find_element(By.ID, "sidebar").is_displayed())
    screenshot(page, "sidebar-390x844")


def shown_documents(browser: Any) -> list[str]:
    script = "return [...document.querySelectorAll('#documents .filename')].map(e => e.textContent)"
    return list(browser.execute_script(script))


def test_collections_uploads_with_progress_and_a_collection_scoped_conversation(page: Any, tmp_path: Path) -> None:
    outside = tmp_path / "canteen.txt"
    outside.write_text("The canteen serves soup at noon. Friday is pizza day.")
    page.find_element(By.ID, "file-input").send_keys(str(outside))
    wait(page, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#documents li[data-status='ready']"))

    page.find_element(By.ID, "new-collection").click()
    alert = wait(page).until(when.alert_is_present())
    alert.send_keys("Team handbook")
    alert.accept()
    wait(page).until(lambda b: "Team handbook" in b.find_element(By.ID, "drop-text").text)
    assert page.find_element(By.CSS_SELECTOR, "#collection option:checked").text.startswith("Team handbook")
    assert shown_documents(page) == []

    handbook = tmp_path / "handbook.txt"
    handbook.write_text(
        " ".join(f"Rule {n}: parental leave lasts sixteen weeks and holiday accrues monthly." for n in range(1500))
    )
    page.find_element(By.ID, "file-input").send_keys(str(handbook))
    # Read in one script: the list is re-rendered as progress comes in.
    read_bar = (
        "const p = document.querySelector('#documents li progress'); return p && [p.max, p.getAttribute('aria-label')]"
    )
    bar = wait(page, 30).until(lambda b: b.execute_script(read_bar))
    assert bar[0] >= 1 and "passages prepared" in bar[1]
    screenshot(page, "knowledge-progress-1280x800")
    wait(page, 120).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#documents li[data-status='ready']"))
    wait(page).until(lambda b: shown_documents(b) == ["handbook.txt"])

    Select(page.find_element(By.ID, "collection")).select_by_index(0)  # all documents, newest first
    wait(page).until(lambda b: shown_documents(b)[:2] == ["handbook.txt", "canteen.txt"])

    scope = Select(page.find_element(By.ID, "scope"))
    scope.select_by_visible_text("Collection: Team handbook")
    assert "Team handbook" in page.find_element(By.ID, "mode-banner").text
    answer = ask(page, "How long is parental leave?")
    chips = [chip.text for chip in answer.find_elements(By.CSS_SELECTOR, ".cite-chip")]
    assert chips and all("handbook.txt" in chip for chip in chips), chips
    assert "Team handbook" in page.find_element(By.ID, "mode-banner").text
    screenshot(page, "knowledge-1280x800")

    scope.select_by_visible_text("All my documents")
    answer = ask(page, "What is served at noon in the canteen?")
    chips = [chip.text for chip in answer.find_elements(By.CSS_SELECTOR, ".cite-chip")]
    assert any("canteen.txt" in chip for chip in chips), chips
