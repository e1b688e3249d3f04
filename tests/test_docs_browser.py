"""Deep tier: the generated /docs in a real headless browser (Debian's chromium).

The page must load with no console error and list every operation of the OpenAPI document;
Authorize must take an API key, after which "Try it out" gets a 200 from the service.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from generated import api_keys, install, mint_api_key
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect, sync_playwright
from test_generated_suites import Service

from mongodb_server import REPO

METHODS = {"get", "head", "post", "put", "patch", "delete", "options"}
# Flags for a sandbox with no network but loopback (see the machine notes in the README).
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The browser: $CHROMIUM, or Debian's chromium (`make chromium`), or a Chrome on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail("no chromium: run `make chromium` (apt-get install chromium)", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, mongodb_uri: str
) -> Iterator[tuple[Service, str]]:
    """The default project (api-key) as a process, with a key minted by its own command."""
    output = tmp_path_factory.mktemp("docs")
    project = Path(cookiecutter(str(REPO), no_input=True, output_dir=str(output)))
    python = install(project)
    key, entry = mint_api_key(python, project, "browser")
    running = Service(
        python,
        {
            "MONGODB_URI": mongodb_uri,
            "MONGODB_DATABASE": f"docs_{os.getpid()}_{time.monotonic_ns()}",
            "PORT": "0",
            "METRICS_PORT": "0",
            "API_KEYS": api_keys(entry),
            "SHUTDOWN_DELAY_SECONDS": "0",
        },
        key,
    )
    running.wait_until_ready()
    yield running, key
    running.terminate(limit=15)


def open_docs(browser: Browser, base_url: str) -> tuple[Page, list[str]]:
    page = browser.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.goto(f"{base_url}/docs", wait_until="load")
    return page, errors


def try_listing_students(page: Page) -> Locator:
    """Open `GET /students`, press Try it out, then Execute: the status of the answer."""
    listing = page.locator("[id$='-list_students']")
    listing.locator(".opblock-summary").click()
    listing.locator("button.try-out__btn").click()
    listing.locator("button.execute").click()
    return listing.locator(".live-responses-table .response .response-col_status").first


def test_the_docs_list_every_operation_without_errors(
    browser: Browser, service: tuple[Service, str]
) -> None:
    running, _ = service
    status, _, document = running.call("GET", "/openapi.json")
    assert status == 200
    operations = {
        operation["operationId"]
        for path in document["paths"].values()
        for method, operation in path.items()
        if method in METHODS
    }
    page, errors = open_docs(browser, running.base_url)

    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(operations), timeout=20_000)
    for operation_id in operations:
        assert page.locator(f"[id$='-{operation_id}']").count() == 1, operation_id
    assert not errors, errors
    page.close()


def test_authorize_takes_an_api_key_and_try_it_out_gets_a_200(
    browser: Browser, service: tuple[Service, str]
) -> None:
    running, key = service
    student = {"name": "Ada", "email": "a@example.com", "course": "Maths", "gpa": 3.5}
    assert running.call("POST", "/students", student)[0] == 201
    page, errors = open_docs(browser, running.base_url)

    page.locator("button.authorize").first.click()
    page.locator(".modal-ux input").first.fill(key)
    page.locator(".modal-ux button.authorize").first.click()
    page.locator(".modal-ux button.btn-done").first.click()

    expect(try_listing_students(page)).to_have_text("200", timeout=20_000)
    expect(page.locator("[id$='-list_students'] .live-responses-table")).to_contain_text("Ada")
    assert not errors, errors
    page.close()


def test_without_the_key_try_it_out_gets_the_401(
    browser: Browser, service: tuple[Service, str]
) -> None:
    """The same click without Authorize: proof that the 200 above came from the key."""
    running, _ = service
    page, errors = open_docs(browser, running.base_url)

    expect(try_listing_students(page)).to_have_text("401", timeout=20_000)
    page.close()
    # The browser reports the 401 as a failed resource load; that is the only error.
    assert all("401" in error for error in errors), errors
