"""What people see (issue 11), in a real Chromium against one server: the projector keeps the QR
code and the join code in a corner of every step (and the tovholder can hide it and bring it
back), every exercise type fits the projector at 1920x1080 and 1280x720 with text the back row
reads, and every page passes axe (WCAG 2.1 A and AA), sends no request off its origin and logs
no error. The scenes are set through the runner (tests/stagehand.py); pages are loaded fresh."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.harness import Server, login
from tests.stagehand import Stagehand, first_steps

if TYPE_CHECKING:
    from tests.browser import Watcher

pytest_plugins = ["tests.browser"]

FULL_HD = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def hand(shared_sqlite_server: Server) -> Iterator[Stagehand]:
    stagehand = Stagehand(shared_sqlite_server.database_url)
    try:
        yield stagehand
    finally:
        stagehand.close()


@pytest.fixture(scope="module")
def tovholder(chromium: Browser, shared_sqlite_server: Server) -> Iterator[BrowserContext]:
    """A browser logged in as the tovholder; every request off the server's origin is refused
    and recorded."""
    client = login(shared_sqlite_server)
    context = chromium.new_context(viewport=FULL_HD)
    context.add_cookies(
        [{"name": k, "value": v, "url": shared_sqlite_server.url} for k, v in client.cookies.items()]
    )
    client.close()
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="module")
def page(tovholder: BrowserContext) -> Page:
    return tovholder.new_page()


def qr_codes(page: Page) -> list[str]:
    shot = page.screenshot(animations="disabled")
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]


def test_the_projector_shows_the_qr_code_on_every_step_and_the_tovholder_can_hide_it(
    page: Page, hand: Stagehand, shared_sqlite_server: Server, watcher: Watcher
) -> None:
    server = shared_sqlite_server
    watcher.watch(page, "projector")
    steps = [
        p for p in first_steps() if p.flow == "reflection" and p.exercise in ("talk", "open_text", "dot_vote")
    ]
    assert len(steps) == 3
    for pick in steps:
        scene = hand.scene(pick.flow, "nb", pick.index, people=8)
        page.set_viewport_size(FULL_HD)
        page.goto(f"{server.url}/runs/{scene.run_id}/projector")
        corner = page.locator(".joincorner")
        expect(corner).to_be_visible()
        box = page.locator(".joincorner__qr svg").bounding_box()
        assert box and box["width"] >= 220 and box["height"] >= 220, (pick.exercise, box)
        assert qr_codes(page) == [f"{server.url}/j/{scene.code}"], pick.exercise
        assert corner.inner_text().split()[-1] == scene.code
    # The key J hides it (the tovholder's choice is stored: a reload keeps it), and J brings it back.
    expect(page.locator("#conn")).to_have_attribute("data-state", "online", timeout=15_000)
    page.keyboard.press("j")
    expect(page.locator(".joincorner")).to_have_count(0)
    page.reload()
    expect(page.locator(".joincorner")).to_have_count(0)
    assert qr_codes(page) == []
    page.keyboard.press("j")
    expect(page.locator(".joincorner")).to_be_visible()
    assert not watcher.errors, watcher.errors
