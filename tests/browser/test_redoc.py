"""ReDoc at /redoc and Swagger UI at /docs, in a real browser, from bundled assets only."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
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


def test_swagger_uis_try_it_out_uploads_with_only_a_file_chosen(
    browser: Any, echo_server: Server, tmp_path: Path
) -> None:
    """Swagger UI fills every multipart field it shows and sends them all, emptied or not: the
    upload's examples are empty, and the server takes an empty field as one left out."""
    document = tmp_path / "tried-out.txt"
    document.write_text(f"Tried out in Swagger UI ({uuid.uuid4().hex}): the harbour opens at six.")
    browser.set_window_size(1280, 800)
    browser.get(f"{echo_server.base}/docs")
    wait = WebDriverWait(browser, 30)
    upload = wait.until(lambda b: b.find_element(By.ID, "operations-documents-post_upload_document"))
    upload.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    responses = [row.get_attribute("data-code") for row in upload.find_elements(By.CSS_SELECTOR, "tr.response")]
    assert "404" in responses  # an unknown collection_id
    wait.until(lambda b: upload.find_element(By.CSS_SELECTOR, ".try-out__btn")).click()
    field = wait.until(lambda b: upload.find_element(By.CSS_SELECTOR, "tr[data-property-name=file] input[type=file]"))
    prefilled = {
        name: upload.find_element(By.CSS_SELECTOR, f"tr[data-property-name={name}] {tag}").get_attribute("value")
        for name, tag in (("user_id", "input"), ("collection_id", "input"), ("attributes", "textarea"))
    }
    assert prefilled == {"user_id": "", "collection_id": "", "attributes": "{}"}
    field.send_keys(str(document))
    upload.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = ".live-responses-table tr.response .response-col_status"
    answer = wait.until(lambda b: upload.find_elements(By.CSS_SELECTOR, status))
    body = json.loads(upload.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight").text)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", answer[0])
    screenshot(browser, "swagger-upload-1280x800")
    assert answer[0].text.strip() == "201", body
    assert body["filename"] == "tried-out.txt" and body["user_id"] == "local"  # the server's default user
    assert body["attributes"] == {}
    # What Swagger UI sent: every field, the unfilled ones empty.
    curl = upload.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert "user_id=" in curl and "collection_id=" in curl
