"""Every screen is accessible (issue 11): axe (WCAG 2.1 A and AA) finds nothing at 320 and 1280
px on every page, the projector of every exercise type with its results hidden and shown, and the
phone of every exercise type; at 320x640 a phone never scrolls sideways and every control is at
least 44x44 px; no page asks another origin for anything, and none logs an error."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.results_links import ResultsLinks
from tests.harness import Server
from tests.screens import HD, WIDTHS, axe_at_widths, without_sockets
from tests.stagehand import Stagehand, first_steps

if TYPE_CHECKING:
    from tests.browser import Watcher
    from tests.conftest import Uvicorn

pytest_plugins = ["tests.browser", "tests.screens"]


@pytest.fixture(scope="module", autouse=True)
def still_pages(tovholder: BrowserContext, anon: BrowserContext) -> None:
    """Pages as loaded: no socket swaps a page while axe reads it."""
    without_sockets(tovholder)
    without_sockets(anon)


def test_every_tovholder_page_passes_axe_at_320_and_1280(
    page: Page,
    phone_page: Page,
    hand: Stagehand,
    shared_sqlite_server: Server,
    watcher: Watcher,
    offsite: list[str],
) -> None:
    server = shared_sqlite_server.url
    watcher.watch(page, "tovholder")
    watcher.watch(phone_page, "anonymous")
    live = hand.scene("reflection", "en", 2, people=8)
    done = hand.scene("core-task-1", "nb", 7, people=8)
    hand.runner.close(done.run_id)
    _row, token = ResultsLinks(hand.engine).create(done.run_id)
    link = f"{server}/r/{token}"
    failures: list[str] = []
    axe_at_widths(phone_page, f"{server}/login", "login", failures)
    team = hand.scenes_team(done.run_id)
    for url, name in (
        ("/dashboard", "dashboard"),
        (f"/teams/{team}", "team page"),
        (f"/runs/{live.run_id}/edit", "edit steps"),
        (f"/runs/{live.run_id}/console", "console"),
        (f"/runs/{done.run_id}/results", "results"),
        (f"/runs/{done.run_id}/posters", "posters"),
        ("/guide", "guide"),
        ("/accessibility", "accessibility statement"),
    ):
        axe_at_widths(page, server + url, name, failures)
    axe_at_widths(phone_page, link, "results link", failures)
    assert not failures, "\n".join(failures)
    assert not offsite, offsite
    assert not watcher.errors, watcher.errors


LAST_SMALL = WIDTHS[::-1]  # a phone's page ends at 320 px, where its fit is checked


def test_every_exercise_type_passes_axe_on_the_projector_and_the_phone(
    page: Page,
    phone_page: Page,
    anon: BrowserContext,
    hand: Stagehand,
    shared_sqlite_server: Server,
    watcher: Watcher,
    offsite: list[str],
) -> None:
    """Per type, one session at its first step in the shipped flows: the projector with the
    results hidden and shown, and the phone's form, at 320 and 1280 px; the phone at 320x640 never
    scrolls sideways and its controls are at least 44x44 px. Also the lobby, and joining a team's
    session (the unit picker)."""
    server = shared_sqlite_server.url
    watcher.watch(page, "projector")
    watcher.watch(phone_page, "phone")
    failures: list[str] = []
    small = {"width": 320, "height": 640}
    lobby = hand.scene("coordination-1", "nb", None, people=4)
    axe_at_widths(page, f"{server}/runs/{lobby.run_id}/projector", "projector lobby", failures, (small, HD))
    anon.clear_cookies()
    axe_at_widths(phone_page, f"{server}/j/{lobby.code}", "join with units", failures, LAST_SMALL)
    failures += [f"join with units: {p}" for p in _phone_fit(phone_page)]
    for pick in first_steps():
        scene = hand.scene(pick.flow, "nb", pick.index, people=6, revealed=False)
        view = hand.runner.run_view(scene.run_id)
        hides = view.current is not None and view.current.takes_answers
        for revealed in (False, True) if hides else (True,):
            hand.runner.set_revealed(scene.run_id, revealed)
            name = f"projector {pick.exercise} ({'shown' if revealed else 'hidden'})"
            axe_at_widths(page, f"{server}/runs/{scene.run_id}/projector", name, failures, (small, HD))
        anon.clear_cookies()
        anon.add_cookies([{"name": "tov_p", "value": scene.phone_token, "url": server}])
        phone = f"phone {pick.exercise}"
        axe_at_widths(phone_page, f"{server}/p/{scene.code}", phone, failures, LAST_SMALL)
        failures += [f"phone {pick.exercise}: {p}" for p in _phone_fit(phone_page)]
    assert not failures, "\n".join(failures)
    assert not offsite, offsite
    assert not watcher.errors, watcher.errors


def _phone_fit(page: Page) -> list[str]:
    """At 320 px: no horizontal scroll, and every control at least 44x44 px (a radio button or
    checkbox by its label, which is what a thumb taps)."""
    return page.evaluate(TARGETS_JS)


TARGETS_JS = (Path(__file__).parent / "targets.js").read_text(encoding="utf-8")


def test_the_setup_link_the_terminal_prints_passes_axe_and_logs_the_first_tovholder_in(
    uvicorn: Uvicorn, chromium: Browser, tmp_path: Path, watcher: Watcher
) -> None:
    """A first start on an empty database prints the setup link (the README says so); its page
    passes axe at 320 and 1280 px, and it creates the account and logs it in: no second login."""
    with uvicorn.running(tmp_path / "first", migrate=True) as server:
        deadline = time.monotonic() + 20
        while "/setup/" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        found = re.search(r"https?://\S+/setup/\S+", server.log())
        assert found, server.log()
        context = chromium.new_context()
        try:
            page = watcher.watch(context.new_page(), "setup")
            failures: list[str] = []
            axe_at_widths(page, found.group(0), "setup", failures)
            assert not failures, "\n".join(failures)
            page.get_by_label("Email").fill("first@example.org")
            page.get_by_label(re.compile("Password")).fill("correct-horse-battery")
            page.get_by_role("button").last.click()
            expect(page).to_have_url(f"{server.url}/dashboard")
        finally:
            context.close()
    assert not watcher.errors, watcher.errors
