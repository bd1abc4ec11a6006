"""The phone's own socket client (static/js/socket.js) in a real browser: it connects, follows
the steps, goes offline when the server goes away, comes back by itself when it returns, and
then follows the steps again."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser import Watcher
from tests.harness import Server, login, start_run

pytest_plugins = ["tests.browser"]
WAIT = 20_000


def test_the_phone_reconnects_by_itself_after_a_restart(
    chromium: Browser, sqlite_server: Server, watcher: Watcher
) -> None:
    server = sqlite_server
    tov = login(server.url)
    run_id, code = start_run(tov)
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = watcher.watch(context.new_page(), "phone")
        phone.goto(f"{server.url}/j/{code}")
        phone.get_by_role("button", name="Join").click()
        expect(phone.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
        # The join's reply is the phone's page; its address is the phone's, so a reload is no
        # second join.
        expect(phone).to_have_url(f"{server.url}/p/{code}")
        phone.reload()
        expect(phone.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
        assert phone.evaluate("document.body.dataset.role") == "phone"
        moved = tov.post(f"/runs/{run_id}/next")
        assert moved.status_code in (200, 303), moved.text
        expect(phone.locator("#phone h1")).not_to_have_text("You are in", timeout=WAIT)
        first = phone.locator("#phone h1").inner_text()

        server.stop()
        expect(phone.locator("#conn")).to_have_attribute("data-state", "offline", timeout=WAIT)
        server.start()
        expect(phone.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
        tov = login(server.url)
        assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
        expect(phone.locator("#phone h1")).not_to_have_text(first, timeout=WAIT)
    finally:
        context.close()
        tov.close()
