"""Fixtures for the screen tests (test_screens.py, test_accessibility.py): one server per module,
its scenes set through the runner (tests/stagehand.py), a logged-in tovholder's browser, an
anonymous one (phones, results links, the login page), and a record of every request that left
the server's origin. A module takes them with `pytest_plugins = ["tests.browser", "tests.screens"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request

from tests.browser import axe_violations
from tests.harness import Server, login
from tests.stagehand import Stagehand

FULL_HD = {"width": 1920, "height": 1080}
HD = {"width": 1280, "height": 720}
WIDTHS = ({"width": 320, "height": 640}, {"width": 1280, "height": 800})


@pytest.fixture(scope="module")
def hand(shared_sqlite_server: Server) -> Iterator[Stagehand]:
    stagehand = Stagehand(shared_sqlite_server.database_url)
    try:
        yield stagehand
    finally:
        stagehand.close()


@pytest.fixture(scope="module")
def tovholder(chromium: Browser, shared_sqlite_server: Server) -> Iterator[BrowserContext]:
    """A browser logged in as the tovholder."""
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
def anon(chromium: Browser) -> Iterator[BrowserContext]:
    """A browser with no login: a participant's phone, a results link, the login page."""
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="module")
def page(tovholder: BrowserContext) -> Page:
    return tovholder.new_page()


@pytest.fixture(scope="module")
def phone_page(anon: BrowserContext) -> Page:
    return anon.new_page()


@pytest.fixture(scope="module")
def still(tovholder: BrowserContext) -> Page:
    """A page without the live socket: it shows the scene as loaded, and nothing swaps it."""
    page = tovholder.new_page()
    page.route("**/socket.io.min.js", lambda route: route.abort())
    return page


@pytest.fixture(scope="module")
def offsite(tovholder: BrowserContext, anon: BrowserContext, shared_sqlite_server: Server) -> list[str]:
    """Every request any page of the module made to another origin than the server's."""
    found: list[str] = []
    origin = shared_sqlite_server.url

    def seen(request: Request) -> None:
        if not request.url.startswith((origin + "/", "data:", "blob:", "about:")):
            found.append(request.url)

    tovholder.on("request", seen)
    anon.on("request", seen)
    return found


def axe_at_widths(
    page: Page, url: str, name: str, failures: list[str], widths: tuple[dict[str, int], ...] = WIDTHS
) -> None:
    """Loads `url` once, and at each width (the window resized, as a person would) adds what axe
    (WCAG 2.1 A and AA) finds to `failures`. The page ends at the last width."""
    for i, size in enumerate(widths):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        if i == 0:
            page.goto(url)
        else:  # the resize event and the projector's fit after it: two frames, then fitted
            page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        page.wait_for_function(SETTLED)
        page.wait_for_function(FITTED)
        failures += [f"{name} at {size['width']} px: {v}" for v in axe_violations(page)]


# The projector's stage has been fitted to the window (static/js/fit.js); other pages have none.
FITTED = "() => { const s = document.getElementById('stage'); return !s || s.hasAttribute('data-fitted'); }"


# Every animation in time that ends has ended (a name chip fading in is not yet its real colour);
# endless ones (a pulsing dot) and those driven by scrolling are no reason to wait.
SETTLED = (
    "() => document.getAnimations().every((a) => a.playState !== 'running'"
    " || a.effect.getTiming().iterations === Infinity || !(a.timeline instanceof DocumentTimeline))"
)


# A stand-in for the socket.io client: the page renders as loaded and nothing swaps it while axe
# reads it (the live pushes have tests of their own). tovholder.js finds an `io` and stays quiet.
SOCKET_STUB = (
    "window.io = function () { var s = {connected: false, active: true, "
    "on: function () { return s; }, emit: function () { return s; }, "
    "connect: function () { return s; }}; return s; };"
)


def without_sockets(context: BrowserContext) -> None:
    context.route(
        "**/socket.io.min.js",
        lambda route: route.fulfill(body=SOCKET_STUB, content_type="application/javascript"),
    )
