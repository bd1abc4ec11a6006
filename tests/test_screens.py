"""What the room sees (issue 11), in a real Chromium against one server: the projector keeps the
QR code and the join code in a corner of every step (the tovholder can hide it and bring it back),
and every exercise type fits the projector at 1920x1080 and 1280x720 at its largest, with text the
back row reads. The scenes are set through the runner (tests/stagehand.py); pages load fresh."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.harness import Server
from tests.screens import FULL_HD, HD
from tests.stagehand import FIT_JS, Stagehand, first_steps, largest_steps

if TYPE_CHECKING:
    from tests.browser import Watcher

pytest_plugins = ["tests.browser", "tests.screens"]


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


def test_every_exercise_type_fits_the_projector_at_its_largest(
    still: Page, hand: Stagehand, shared_sqlite_server: Server
) -> None:
    """Each type's step with the most text in the shipped flows, with 40 people's answers, in
    the language where its texts are longest, at 1920x1080 and 1280x720: no scroll, nothing past
    the window or clipped (a list too long is paged, and says so); at 1920x1080 the question is
    40 px or more, the body 28 px, and nothing the room reads under 24 px."""
    failures: list[str] = []
    paged: list[str] = []
    page = still
    for pick in largest_steps():
        scene = hand.scene(pick.flow, pick.longest_locale, pick.index, people=40)
        for viewport in (FULL_HD, HD):
            page.set_viewport_size(viewport)
            page.goto(f"{shared_sqlite_server.url}/runs/{scene.run_id}/projector")
            page.wait_for_selector("#stage[data-fitted]", state="attached")
            found = page.evaluate(FIT_JS)
            where = f"{pick.exercise} ({pick.flow}, {pick.longest_locale}, {viewport['width']})"
            failures += [f"{where}: {p}" for p in found["problems"]]
            pager = page.locator("[data-pager]")
            if pager.is_visible():
                paged.append(where)
                assert re.fullmatch(r"(Side|Page|Sida) 1 (av|of|af) \d+.*", pager.inner_text()), where
            if viewport == FULL_HD:
                if found["title"] is not None and found["title"] < 40:
                    failures.append(f"{where}: the question is {found['title']} px")
                if found["body"] is not None and found["body"] < 28:
                    failures.append(f"{where}: the body is {found['body']} px")
                failures += [f"{where}: {n} is {s} px: {t}" for n, s, t in found["sizes"] if s < 24]
    assert not failures, "\n".join(failures)
    assert any(w.startswith("open_text") for w in paged), "40 cards do not fit one screen: they are paged"
