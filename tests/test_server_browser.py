"""The query page and an entity page in a real browser: headless Chromium from the distribution's
packages, driven by Playwright (no browser download). No network beyond 127.0.0.1 is needed: the
page loads nothing from a CDN (any such request is blocked here and would fail the test)."""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("WSISKG_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True)

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context()
    outside = []

    def only_local(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not outside, f"the page tried to load from outside: {outside}"
    assert not errors, f"script errors: {errors}"


def test_query_page_runs_a_typed_query(page, server):
    page.goto(server.url + "/sparql")
    editor = page.locator("#query")
    assert "PREFIX wsis:" in editor.input_value()
    # the highlighter has coloured the pre-filled prefixes
    assert page.locator("#highlight .tok-keyword").count() > 0
    editor.fill("PREFIX sdgo: <http://metadata.un.org/sdg/ontology#>\n"
                "SELECT ?goal WHERE { ?goal a sdgo:Goal } ORDER BY ?goal")
    page.locator("#run").click()
    page.wait_for_selector("#results-table")
    assert page.locator("#results-table tbody tr").count() == 17
    assert page.locator("#row-count").inner_text() == "17"
    # IRIs link to pages on this server, and the download links are there
    first = page.locator("#results-table tbody tr >> nth=0 >> a")
    assert first.get_attribute("href").startswith("/resource?iri=")
    assert page.locator("p.downloads a").count() == 4


def test_query_page_runs_a_named_query(page, server):
    page.goto(server.url + "/")
    page.locator("a.named-query", has_text="describe-entity").click()
    page.wait_for_selector("#params-form")
    page.locator("#params-form input[name=iri]").fill("id:org/itu")
    page.locator("#params-form button").click()
    page.wait_for_selector("#results-table")
    assert page.locator("#results-table tbody tr").count() > 10
    assert "International Telecommunication Union" in page.locator("#results-table").inner_text()


def test_loading_an_example_into_the_editor(page, server):
    page.goto(server.url + "/sparql")
    page.locator("button.example").first.click()
    assert page.locator("#query").input_value().startswith("#+ summary:")
    assert page.locator("#highlight .tok-comment").count() > 0


def test_entity_page_shows_its_label(page, server):
    page.goto(server.url + "/id/org/itu")
    assert page.locator("#entity-label").inner_text() == "International Telecommunication Union"
    assert page.locator("#properties").is_visible()
    assert page.locator('#properties a[href^="/id/action-line/"]').count() > 0
