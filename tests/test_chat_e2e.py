"""End to end in a real headless Chromium (Debian's, driven by Playwright): starter -> cited answer ->
open the citation -> feedback -> visit question list download; an emergency shows 112 first.
Screenshots are saved under test-artifacts/ (kept by CI)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT
from .server import fixture_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium saknas: installera Debians paket `chromium` (./run test gör det som root)")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chat(tmp_path_factory, embedding_cache):
    with fixture_server(tmp_path_factory, embedding_cache, "chat-server") as running:
        yield running


@pytest.fixture
def page(chat):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                      locale="sv-SE")
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(chat[0] + "/")
        page.get_by_text("Metotrexat och alkohol").first.wait_for()  # connected and ready
        yield page
        browser.close()


def test_patient_journey(chat, page, tmp_path):
    from playwright.sync_api import expect

    url, data_dir = chat
    expect(page.get_by_text("Välkommen till Kunskapsstöd RA")).to_be_visible()
    expect(page.get_by_text("exempel som projektet har skrivit")).to_be_visible()
    expect(page.locator("textarea, [contenteditable]").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "01-valkommen.png"))

    # Click a starter and get a cited answer.
    page.get_by_text("Metotrexat och alkohol").first.click()
    answer = page.locator(".step").filter(has_text="levern").last
    expect(answer).to_be_visible()
    chip = answer.get_by_text("Källa 1").first
    expect(chip).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "02-svar-med-kalla.png"))

    # Open the citation: the side panel shows the whole passage with title, section, version, review date.
    chip.click()
    side = page.get_by_text("granskas senast 2030-01-10")
    expect(side).to_be_visible()
    expect(page.get_by_text("Fråga din mottagning vad som gäller för dig.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "03-kalla-oppen.png"))

    # Feedback: thumbs down with a comment, stored in the database.
    answer.locator("button:has(svg.lucide-thumbs-down)").first.click()
    page.locator("[role=dialog] textarea").fill("Svaret var för kort.")
    page.locator("#submit-feedback").click()
    expect(page.get_by_text("Tack för din återkoppling!").first).to_be_visible()
    db = sqlite3.connect(data_dir / "kunskapsstod.sqlite3")
    rows = db.execute("SELECT f.value, f.comment, a.kind FROM feedback f JOIN answers a "
                      "ON a.message_id = f.message_id").fetchall()
    assert rows == [(0, "Svaret var för kort.", "answer")]

    # Visit questions: save, view and download.
    answer.get_by_text("Spara frågan till mitt besök").click()
    expect(page.get_by_text("Sparad i").first).to_be_visible()
    page.get_by_text("Mina besöksfrågor").last.click()
    expect(page.get_by_text("Frågor till mitt besök (1 st)").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "04-besoksfragor.png"))
    with page.expect_download() as download_info:
        page.get_by_text("fragor-till-mitt-besok.md").last.click()
    saved = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "# Frågor till mitt besök" in saved
    assert "1. Får jag dricka alkohol när jag tar metotrexat?" in saved


def send(page, text: str) -> None:
    page.locator("#chat-input").first.fill(text)
    page.locator("#chat-submit").click()


def test_emergency_shows_112_first(page):
    from playwright.sync_api import expect

    send(page, "Jag har plötsligt ont i bröstet och kan inte andas")
    reply = page.locator(".step").filter(has_text="Ring 112").last
    expect(reply).to_be_visible()
    text = reply.inner_text()
    assert text.index("112") < 60, text
    page.screenshot(path=str(ARTIFACTS / "05-akut-112.png"))


def test_user_text_is_not_rendered_as_html_or_links(page):
    from playwright.sync_api import expect

    send(page, "<img src=x onerror=alert(1)> [klicka](http://example.org) hur ofta tar jag metotrexat")
    expect(page.get_by_text("[klicka](http://example.org)", exact=False).first).to_be_visible()
    assert page.locator("a[href='http://example.org']").count() == 0
    assert page.locator("img[src='x']").count() == 0


def test_two_tabs_at_once_never_mix_answers(chat):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = []
        for _ in range(2):
            page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
            page.set_default_timeout(30_000)
            page.goto(chat[0] + "/")
            page.get_by_text("Metotrexat och alkohol").first.wait_for()
            pages.append(page)
        send(pages[0], "vilka vaccin behöver jag")
        send(pages[1], "kan jag träna under ett skov")
        expect(pages[0].locator(".step").filter(has_text="influensa").last).to_be_visible()
        expect(pages[1].locator(".step").filter(has_text="skov").last).to_be_visible()
        assert "influensa" not in pages[1].locator("body").inner_text()
        assert "Under ett skov är lederna" not in pages[0].locator("body").inner_text()
        pages[1].screenshot(path=str(ARTIFACTS / "06-tva-flikar.png"))
        browser.close()
