"""The whole product as people use it, in a real Chromium: a tovholder logs in and starts
`reflection`, opens the projector, two phones join by scanning the projector's QR code, the
tovholder walks the flow with the keyboard, the phones answer through their forms, answers appear
live on the big screen, and the session ends on every screen. No page may log a JavaScript error."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from app.flows import Step, load_flow, text
from exercises import build_registry
from tests.harness import PASSWORD, ROOT, Server

if TYPE_CHECKING:
    from tests.browser import Watcher

pytest_plugins = ["tests.browser"]  # the chromium, watcher and artifacts fixtures

DESKTOP = ViewportSize(width=1280, height=800)
PROJECTOR = ViewportSize(width=1280, height=720)
PROJECTOR_FULL_HD = ViewportSize(width=1920, height=1080)
PHONE = ViewportSize(width=375, height=667)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

WAIT = 15_000  # ms: generous, bounded
XSS = "<script>alert(1)</script> & <b>bold</b>"
WORDS = ("Snowdrifts", "Teamwork")
# Cards per open-text step: (phone 1's cards, phone 2's cards). Phone 1 sends two on `do-best`.
CARDS = {
    "look-back": (["The power went at seven and the tablets died by ten."], [XSS]),
    "do-best": (
        ["We drove in pairs on the worst roads.", "Medicines first, no argument."],
        ["Our team lead stayed calm."],
    ),
    "learn": (["A power bank in every car."], ["Ask relatives early — they help ✓ æøå."]),
    "keep-develop": (["Keep: the group chat."], ["Develop: a one-page storm checklist."]),
}
SCALE = (4, 2)


def fits(page: Page) -> tuple[bool, int, int]:
    scroll, inner = page.evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
    return scroll <= inner, scroll, inner


def assert_fits(page: Page, what: str) -> None:
    ok, scroll, inner = fits(page)
    assert ok, f"{what} scrolls: scrollHeight {scroll} > innerHeight {inner}"


def mark_loaded(page: Page) -> None:
    """A flag in the page's window: it is gone if the page reloads or navigates."""
    page.evaluate("window.__tovholderNoReload = true")


def assert_not_reloaded(page: Page, what: str) -> None:
    assert page.evaluate("window.__tovholderNoReload === true"), f"{what} reloaded or navigated"


def phone_context(browser: Browser) -> BrowserContext:
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=PHONE_UA)


def send(phone: Page, fill: Callable[[], None], button: str, sent: list[str]) -> None:
    """Fill the answer form, tap its button, and see "Sent" with everything this phone sent."""
    fill()
    submit = phone.locator("#phone form[data-answer] button[type=submit]")
    expect(submit).to_have_text(button)
    submit.tap()
    box = phone.locator("#phone .sent")
    expect(box).to_contain_text("Sent", timeout=WAIT)
    expect(box.locator(".sent__list li")).to_have_count(len(sent), timeout=WAIT)
    for item in sent:
        expect(box.locator(".sent__list")).to_contain_text(item)


def type_into(field: Locator, value: str) -> Callable[[], None]:
    def fill() -> None:
        # Every answer starts from an empty field: after "Sent", "Send another" offers a fresh form.
        expect(field).to_have_value("")
        field.click()
        field.press_sequentially(value)
        expect(field).to_have_value(value)

    return fill


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_a_tovholder_runs_reflection_with_two_phones_in_a_real_browser(
    chromium: Browser, sqlite_server: Server, watcher: Watcher, artifacts: Path
) -> None:
    server = sqlite_server
    flow = load_flow(ROOT / "sessions" / "reflection.yaml", build_registry())
    shape = ["talk", "word_cloud", "open_text", "open_text", "open_text", "open_text", "scale", "talk"]
    assert [s.exercise for s in flow.steps] == shape, "the test walks reflection.yaml as it was: update both"
    assert [s.id for s in flow.steps if s.exercise == "open_text"] == list(CARDS)
    assert [s.id for s in flow.steps if s.hide_results] == ["look-back"]

    shots = iter(range(1, 100))

    def shot(page: Page, name: str) -> Path:
        path = artifacts / f"{next(shots):02d}-{name}.png"
        page.screenshot(path=path, animations="disabled")
        return path

    desk = chromium.new_context(viewport=DESKTOP)
    phone_contexts = [phone_context(chromium), phone_context(chromium)]
    try:
        # --- The tovholder logs in and starts `reflection` in English ---
        console = watcher.watch(desk.new_page(), "console")
        console.goto(f"{server.url}/login")
        console.get_by_label("Email").press_sequentially("t@example.org")
        console.get_by_label("Password").press_sequentially(PASSWORD)
        shot(console, "login")
        console.get_by_role("button", name="Log in").click()
        expect(console).to_have_url(f"{server.url}/dashboard", timeout=WAIT)
        expect(console.get_by_role("heading", name="Start a session")).to_be_visible()
        start = console.locator('button[data-flow="reflection"]')
        start.locator("xpath=ancestor::form").locator('select[name="locale"]').select_option("en")
        shot(console, "dashboard")
        start.click()
        expect(console).to_have_url(re.compile(re.escape(server.url) + r"/runs/\d+/console$"), timeout=WAIT)
        run_id = int(console.url.rstrip("/").split("/")[-2])
        code = console.locator("body").get_attribute("data-run")
        assert code and re.fullmatch(r"[A-Z0-9]+", code), code
        expect(console.locator("#console")).to_contain_text("People are joining")
        expect(console.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
        mark_loaded(console)

        # --- The projector: fits the screen, shows the QR code and the join code ---
        projector = watcher.watch(desk.new_page(), "projector")
        projector.set_viewport_size(PROJECTOR)
        projector.goto(f"{server.url}/runs/{run_id}/projector")
        stage = projector.locator("#stage")
        expect(stage.locator(".lobby")).to_be_visible()
        expect(projector.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
        mark_loaded(projector)
        assert_fits(projector, "the projector lobby at 1280x720")
        projector.set_viewport_size(PROJECTOR_FULL_HD)
        assert_fits(projector, "the projector lobby at 1920x1080")
        shot(projector, "projector-lobby-1920x1080")
        projector.set_viewport_size(PROJECTOR)
        assert_fits(projector, "the projector lobby back at 1280x720")

        lobby_png = shot(projector, "projector-lobby")
        codes = zxingcpp.read_barcodes(Image.open(lobby_png))
        assert len(codes) == 1, f"expected one QR code on the projector, found {len(codes)}"
        join_url = codes[0].text
        assert join_url == f"{server.url}/j/{code}", join_url
        big = stage.locator(".code")
        expect(big).to_be_visible()
        shown = big.inner_text().split()[-1]  # after a visually hidden "Join code:" for screen readers
        assert shown == join_url.rsplit("/j/", 1)[1] == code, (big.inner_text(), join_url, code)
        size = big.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
        assert size >= 48, f"the join code is {size}px on the projector: too small for a room"

        # --- Two phones scan the code: one gives a name, one does not ---
        phones = [watcher.watch(c.new_page(), f"phone{i + 1}") for i, c in enumerate(phone_contexts)]
        for i, (phone, name) in enumerate(zip(phones, ("Ada", ""), strict=True)):
            phone.goto(join_url)
            expect(phone.get_by_role("heading", name="Join the session")).to_be_visible()
            expect(phone.locator(".code")).to_have_text(code)
            if name:
                type_into(phone.get_by_label("Your first name (optional)"), name)()
            shot(phone, f"phone{i + 1}-join")
            phone.get_by_role("button", name="Join").tap()
            expect(phone).to_have_url(f"{server.url}/p/{code}", timeout=WAIT)
            expect(phone.locator("#phone h1")).to_have_text("You are in")
            expect(phone.locator("#conn")).to_have_attribute("data-state", "online", timeout=WAIT)
            mark_loaded(phone)
            expect(stage.locator(".lobby__count strong")).to_have_text(str(i + 1), timeout=WAIT)
        shot(phones[0], "phone1-waiting")
        expect(stage.locator(".lobby__count")).to_contain_text("2 people have joined")
        expect(stage.locator(".names")).to_contain_text("Ada")
        expect(console.locator('[data-count="participants"]')).to_have_text("2", timeout=WAIT)
        shot(projector, "projector-lobby-2-joined")

        # --- The tovholder walks the flow with the keyboard on the projector ---
        screens = [
            (projector, "projector"),
            (console, "console"),
            (phones[0], "phone 1"),
            (phones[1], "phone 2"),
        ]

        def everyone_follows(step: Step, index: int) -> None:
            title = text(step.title, "en")
            eyebrow = f"Step {index + 1} of {len(flow.steps)}"
            expect(stage.locator(".stage__title")).to_have_text(title, timeout=WAIT)
            expect(stage.locator(".eyebrow")).to_have_text(eyebrow)
            expect(console.locator(".console__now h2")).to_have_text(title, timeout=WAIT)
            for phone in phones:
                expect(phone.locator("#phone .phone__title")).to_have_text(title, timeout=WAIT)
                expect(phone.locator("#phone .eyebrow")).to_have_text(eyebrow)

        def all_answered(answers: int) -> None:
            label = "answer" if answers == 1 else "answers"
            expect(stage.locator(".stage__tally")).to_have_text(
                f"{answers} {label} · 2 of 2 people", timeout=WAIT
            )

        def press(key: str, action: str) -> None:
            """A key on the projector posts `action` to the server (a clicker would send the same key)."""
            projector.bring_to_front()
            with projector.expect_response(
                lambda r: r.request.method == "POST" and f"/runs/{run_id}/" in r.url, timeout=WAIT
            ) as reply:
                projector.keyboard.press(key)
            posted = reply.value.url.rsplit("/", 1)[-1]
            assert posted == action, f"{key} on the projector posted /{posted}, not /{action}"
            assert reply.value.status == 200, reply.value.text()

        for index, step in enumerate(flow.steps):
            press("ArrowRight", "next")
            everyone_follows(step, index)

            if step.exercise == "talk":
                for phone in phones:
                    expect(phone.locator("#phone")).to_contain_text("Look at the big screen.")
                for point in step.settings["points"]:
                    expect(stage.locator(".points")).to_contain_text(text(point, "en"))

            elif step.exercise == "word_cloud":
                for phone, word in zip(phones, WORDS, strict=True):
                    field = phone.get_by_placeholder("A word or two")
                    send(phone, type_into(field, word), "Send", [word])
                shot(phones[0], "phone1-word-sent")
                for word in WORDS:
                    expect(stage.locator(".cloud")).to_contain_text(word, timeout=WAIT)
                all_answered(2)

            elif step.exercise == "open_text":
                plans = CARDS[step.id]
                for phone, cards in zip(phones, plans, strict=True):
                    for n, card in enumerate(cards):
                        field = phone.locator("#phone textarea[name=text]")
                        send(phone, type_into(field, card), "Send another" if n else "Send", cards[: n + 1])
                        if n + 1 < len(cards):
                            shot(phone, f"{step.id}-phone-sent-one")
                sent = [card for cards in plans for card in cards]
                if step.hide_results:
                    # Hidden: the projector counts the answers but does not show them, until Space.
                    expect(stage.locator(".hidden-results__count")).to_have_text(str(len(sent)), timeout=WAIT)
                    all_answered(len(sent))
                    for card in sent:
                        expect(stage).not_to_contain_text(card)
                    shot(projector, f"projector-{step.id}-hidden")
                    press("Space", "reveal")
                expect(stage.locator(".answer-card")).to_have_count(len(sent), timeout=WAIT)
                for card in sent:
                    expect(stage.locator(".cards")).to_contain_text(card)
                all_answered(len(sent))
                if XSS in sent:
                    # Literal text everywhere; no markup was made from it, and no alert (checked at the end).
                    assert XSS in stage.locator(".cards").inner_text()
                    assert stage.locator(".stage__body b, .stage__body script").count() == 0
                    preview = console.locator(".console__preview")
                    expect(preview).to_contain_text(XSS, timeout=WAIT)
                    assert preview.locator("b, script").count() == 0
                    assert watcher.dialogs == [], f"the answer opened a dialog: {watcher.dialogs}"
                    sender = next(p for p, cards in zip(phones, plans, strict=True) if XSS in cards)
                    assert XSS in sender.locator("#phone .sent__list").inner_text()
                    assert sender.locator("#phone b, #phone script").count() == 0
                    shot(sender, f"{step.id}-phone-sent-markup-as-text")
                shot(projector, f"projector-{step.id}")

            elif step.exercise == "scale":
                for phone, value in zip(phones, SCALE, strict=True):
                    option = phone.locator("label.scale-input__option", has_text=str(value))

                    def choose(option: Locator = option, phone: Page = phone, value: int = value) -> None:
                        option.tap()
                        expect(phone.locator(f'input[name="value"][value="{value}"]')).to_be_checked()

                    send(phone, choose, "Send", [f"{value} / 5"])
                shot(phones[1], "phone2-scale-sent")
                counts = [str(SCALE.count(n)) for n in range(1, 6)]
                expect(stage.locator(".scale__n")).to_have_text(counts, timeout=WAIT)
                expect(stage.locator(".scale__caption")).to_contain_text("Median 3")
                all_answered(2)
                shot(projector, "projector-scale")

            else:
                raise AssertionError(f"no plan for exercise {step.exercise}")

            for page, name in screens:
                assert_not_reloaded(page, f"the {name} at step {step.id}")

        # --- The tovholder ends the session on the console; every screen says so ---
        shot(console, "console-last-step")
        console.bring_to_front()
        console.get_by_role("button", name="End the session").click()
        expect(console.locator("#console")).to_contain_text("The session has ended", timeout=WAIT)
        expect(stage.locator(".closing")).to_contain_text("Thank you!", timeout=WAIT)
        for phone in phones:
            expect(phone.locator("#phone")).to_contain_text("The session has ended", timeout=WAIT)
        shot(projector, "projector-ended")
        shot(phones[0], "phone1-ended")
        shot(console, "console-ended")
        for page, name in screens:
            assert_not_reloaded(page, f"the {name} at the end")

        assert watcher.dialogs == [], f"a dialog opened: {watcher.dialogs}"
        assert watcher.errors == [], "pages logged errors:\n" + "\n".join(watcher.errors)
    finally:
        if watcher.errors or watcher.dialogs:
            print("Browser errors:", *watcher.errors, "Dialogs:", *watcher.dialogs, sep="\n")
        for context in (desk, *phone_contexts):
            context.close()
    assert "Traceback" not in server.log(), server.log()[-3000:]
