"""What the room sees (issue 11), in a real Chromium against one server: the projector keeps the
QR code and the join code in a corner of every step (the tovholder can hide it and bring it back),
and every exercise type fits the projector at 1920x1080 and 1280x720 at its largest, with text the
back row reads. The scenes are set through the runner (tests/stagehand.py); pages load fresh."""

from __future__ import annotations

import io
import json
import re
from typing import TYPE_CHECKING

import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from tests.harness import PASSWORD, Server
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


# --- the keyboard alone ----------------------------------------------------------------------------


def tab_to(page: Page, selector: str, most: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus: it is reachable by keyboard."""
    for _ in range(most):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reached with Tab")


def test_the_tovholder_and_a_phone_run_a_whole_session_from_the_keyboard(
    chromium: Browser, shared_sqlite_server: Server, watcher: Watcher
) -> None:
    """Log in, start reflection-short, walk every step with the arrow key, end the session and
    open the results, all by keyboard; a phone joins and answers a card, a dot vote and a
    commitment by keyboard too."""
    server = shared_sqlite_server.url
    desk = chromium.new_context(viewport={"width": 1280, "height": 800})
    mobile = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        console = watcher.watch(desk.new_page(), "console")
        console.goto(f"{server}/login")
        tab_to(console, "input[name=email]")
        console.keyboard.type("t@example.org")
        tab_to(console, "input[name=password]")
        console.keyboard.type(PASSWORD)
        console.keyboard.press("Enter")
        expect(console).to_have_url(f"{server}/dashboard")
        tab_to(console, 'button[data-flow="reflection-short"]')
        console.keyboard.press("Enter")
        expect(console).to_have_url(re.compile(r".*/runs/\d+/console$"))
        expect(console.locator("#conn")).to_have_attribute("data-state", "online", timeout=15_000)
        code = console.locator("body").get_attribute("data-run")

        phone = watcher.watch(mobile.new_page(), "phone")
        phone.goto(f"{server}/j/{code}")
        tab_to(phone, "input[name=name]")
        phone.keyboard.type("Kari")
        phone.keyboard.press("Enter")
        expect(phone.locator("#phone")).to_be_visible()

        steps = 7
        for n in range(1, steps + 1):
            console.keyboard.press("ArrowRight")
            expect(console.locator("#console")).to_contain_text(f"step {n} of {steps}", timeout=10_000)
            form = phone.locator("form[data-answer]")
            cards = {2: ["We drove in pairs."], 4: ["Keep: the group chat.", "Develop: a storm checklist."]}
            if n in cards or n in (5, 6):
                # The console moves first; the phone's push follows. Typing into the last step's
                # form just before the new step replaces it would lose the text, as it would for a person.
                expect(phone.locator("#phone")).to_contain_text(f"Step {n} of {steps}", timeout=10_000)
            for card in cards.get(n, []):  # cards; the second step's are what the dot vote offers
                form.wait_for()
                tab_to(phone, "form[data-answer] textarea[name=text]")
                phone.keyboard.type(card)
                tab_to(phone, "form[data-answer] button[type=submit]")
                phone.keyboard.press("Enter")
                expect(phone.locator(".sent")).to_contain_text(card)
            if n == 5:  # the dot vote: arrow keys move a radio group's choice
                form.wait_for()
                tab_to(phone, "form[data-answer] input[type=radio], form[data-answer] input[type=number]")
                left = phone.locator("[data-budget]")
                before = left.inner_text()
                assert re.fullmatch(r"Dots left: \d+", before), before
                kind = phone.evaluate("document.activeElement.type")
                phone.keyboard.press("ArrowRight" if kind == "radio" else "ArrowUp")
                spent = int(before.split()[-1]) - 1
                expect(left).to_have_text(f"Dots left: {spent}")  # counted before anything is sent
                tab_to(phone, "form[data-answer] button[type=submit]")
                phone.keyboard.press("Enter")
                expect(phone.locator(".sent")).to_be_visible()
            elif n == 6:  # a commitment
                form.wait_for()
                tab_to(phone, "textarea[name=what]")
                phone.keyboard.type("A power bank in every car")
                tab_to(phone, "input[name=who]")
                phone.keyboard.type("Kari")
                tab_to(phone, "form[data-answer] button[type=submit]")
                phone.keyboard.press("Enter")
                expect(phone.locator(".sent")).to_contain_text("A power bank in every car")
        tab_to(console, 'form[action$="/close"] button')
        console.keyboard.press("Enter")
        expect(console.locator("#console")).to_contain_text("The session has ended")
        tab_to(console, 'a[href$="/results"]')
        console.keyboard.press("Enter")
        expect(console).to_have_url(re.compile(r".*/runs/\d+/results$"))
        expect(console.locator("main")).to_contain_text("We drove in pairs.")
        expect(phone.locator("#phone")).to_contain_text("The session has ended")
    finally:
        desk.close()
        mobile.close()
    assert not watcher.errors, watcher.errors


def test_a_push_rendered_before_next_and_delivered_after_it_does_not_undo_the_step(
    page: Page, hand: Stagehand, shared_sqlite_server: Server, watcher: Watcher
) -> None:
    """The console's Next is answered twice: by the htmx reply and by a socket push. A push rendered
    just before the change (a tally) can arrive after the reply and before the step's own push; it
    must not put the console back a step, or the next Next carries a stale version and the server
    refuses it (409). The socket goes through Playwright, which holds the server's pushes back and
    delivers such a late push on purpose."""
    routes: list[WebSocketRoute] = []
    held: list[str | bytes] = []
    holding = False

    def from_server(message: str | bytes) -> None:
        if holding:
            held.append(message)
        else:
            routes[-1].send(message)

    def route(ws: WebSocketRoute) -> None:
        routes.append(ws)
        ws.connect_to_server().on_message(from_server)  # the page's own messages pass unchanged

    page.route_web_socket(re.compile(r".*/socket\.io/.*"), route)
    watcher.watch(page, "console")
    scene = hand.scene("reflection", "en", 0, people=2)
    page.goto(f"{shared_sqlite_server.url}/runs/{scene.run_id}/console")
    expect(page.locator("#conn")).to_have_attribute("data-state", "online", timeout=15_000)
    console = page.locator("#console")
    expect(console).to_contain_text("step 1 of")
    late = {
        "region": "console",
        "version": int(console.get_attribute("data-version") or 0),
        "html": console.evaluate("el => el.outerHTML"),
    }

    holding = True
    page.keyboard.press("ArrowRight")
    expect(console).to_contain_text("step 2 of")  # the htmx reply
    routes[-1].send("42" + json.dumps(["screen", late]))
    page.wait_for_timeout(500)  # time for the late push to be swapped in, were it taken
    expect(console).to_contain_text("step 2 of", timeout=100)
    holding = False
    for message in held:
        routes[-1].send(message)
    page.keyboard.press("ArrowRight")
    expect(console).to_contain_text("step 3 of")
    assert not watcher.errors, watcher.errors


def test_the_tovholder_can_pause_the_projectors_pages_and_turn_them_by_hand(
    still: Page, hand: Stagehand, shared_sqlite_server: Server
) -> None:
    """40 cards do not fit 1280x720, so the projector pages them by itself. P pauses the turning
    and starts it again (WCAG 2.2.2 Pause, Stop, Hide); the up and down arrows turn one page. The
    pager's interval is set short here (data-turn-ms), as a test cannot wait 9 s a page; the page
    has no live socket, so no push puts the interval back."""
    page = still
    pick = next(p for p in largest_steps() if p.exercise == "open_text")
    scene = hand.scene(pick.flow, "en", pick.index, people=40)
    page.set_viewport_size(HD)
    page.goto(f"{shared_sqlite_server.url}/runs/{scene.run_id}/projector")
    page.wait_for_selector("#stage[data-fitted]", state="attached")
    pager = page.locator("[data-pager]")
    expect(pager).to_contain_text("Page 1 of")
    page.evaluate("document.querySelector('[data-pager]').setAttribute('data-turn-ms', '700')")
    page.evaluate("window.dispatchEvent(new Event('resize'))")  # fits again, with the short interval
    expect(pager).not_to_contain_text("Page 1 of", timeout=3_000)  # it turns by itself
    expect(pager).to_contain_text("(P pauses)")

    page.keyboard.press("p")
    expect(pager).to_contain_text("paused")
    held = pager.inner_text()
    page.wait_for_timeout(1_600)  # two intervals: a page would have turned
    assert pager.inner_text() == held
    number = int(held.split()[1])
    total = int(held.split()[3].rstrip(":"))
    page.keyboard.press("ArrowDown")
    expect(pager).to_contain_text(f"Page {number % total + 1} of {total}: paused")
    page.keyboard.press("ArrowUp")
    expect(pager).to_have_text(held)

    page.keyboard.press("p")
    expect(pager).to_contain_text("turn by themselves")
    expect(pager).not_to_contain_text(f"Page {number} of", timeout=3_000)  # turning again
