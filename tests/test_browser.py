"""The whole product as people use it, in a real Chromium: a tovholder logs in and starts
`reflection`, opens the projector, two phones join by scanning the projector's QR code, the
tovholder walks every step with the keyboard, splits the room into groups and runs the timers from
the console, the phones answer through their forms (cards, dots, commitments), answers appear live
on the big screen, and the session ends on every screen. No page may log a JavaScript error.
The walk follows the flow file as it is: each step by its exercise type and settings, whatever
steps the file has and in whatever order."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

import pytest
import zxingcpp
from babel.dates import format_date
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from app.flows import Flow, Step, load_flow, text
from exercises import build_registry
from exercises.groups import group_count
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
FLOW = "reflection"  # the flow this test walks, step by step by exercise type, whatever its steps
XSS = "<script>alert(1)</script> & <b>bold</b>"
WORDS = ("Snowdrifts", "Teamwork")
# Cards for the open-text steps, in the flow's order, one per phone per step (phone 2's first card
# is markup, which must stay text everywhere); phone 1 sends a second card on the first step that
# takes two. A flow with more open-text steps numbers the cards again.
CARD_TEXTS = (
    ("The power went at seven and the tablets died by ten.", XSS),
    ("We drove in pairs on the worst roads.", "Our team lead stayed calm."),
    ("A power bank in every car.", "Ask relatives early — they help ✓ æøå."),
    ("Keep: the group chat.", "Develop: a one-page storm checklist."),
)
SECOND_CARD = "Medicines first, no argument."
SCALE = (4, 2)
# One commitment per phone (what, who, when): one dated, one in words, with markup as plain text.
SOON = date.today() + timedelta(days=30)
FOLLOW_UP = date.today() + timedelta(days=60)
COMMITMENTS = (
    ("A power bank in every car.", "Office coordinator", SOON.isoformat()),
    ("A one-page storm checklist in every car.", "Team lead & <i>two volunteers</i>", "next staff meeting"),
)
# What the tovholder does with the timers, in the flow's order: the first is started, paused, given
# a minute more and resumed; the last one (if there are two or more) is left alone; others started.
FIRST_TIMER, LAST_TIMER, OTHER_TIMERS = "start, pause, add, resume", "leave", "start"


def card_plans(flow: Flow) -> dict[str, tuple[list[str], list[str]]]:
    """For each open-text step: (phone 1's cards, phone 2's cards), within the step's caps."""
    plans: dict[str, tuple[list[str], list[str]]] = {}
    second_sent = False
    for n, step in enumerate(s for s in flow.steps if s.exercise == "open_text"):
        cap = int(step.settings.get("max_length", 280))
        one, two = CARD_TEXTS[n % len(CARD_TEXTS)]
        if n >= len(CARD_TEXTS):
            one, two = f"{one} ({n})", f"{two} ({n})"
        mine = [one]
        if not second_sent and int(step.settings.get("max_cards", 1)) >= 2:
            mine.append(SECOND_CARD)
            second_sent = True
        plans[step.id] = ([c[:cap] for c in mine], [two[:cap]])
    return plans


def timer_plans(flow: Flow) -> dict[str, str]:
    timers = [s.id for s in flow.steps if s.exercise == "timer"]
    plans = {sid: OTHER_TIMERS for sid in timers}
    if len(timers) >= 2:
        plans[timers[-1]] = LAST_TIMER
    if timers:
        plans[timers[0]] = FIRST_TIMER
    return plans


def spread(options: list[str], dots: int, cap: int) -> dict[str, int]:
    """`dots` dots over the options in order, at most `cap` on one."""
    plan: dict[str, int] = {}
    for option in options:
        if dots <= 0:
            break
        plan[option] = min(cap, dots)
        dots -= plan[option]
    return plan


def plural(n: int, one: str, many: str) -> str:
    return (one if n == 1 else many) % n


CLOCK = re.compile(r"^(\d\d):(\d\d)$")
SKEW = 2  # seconds a countdown may show over its time (tovholder.js guesses the server's clock late)


def clock_seconds(shown: str) -> int:
    found = CLOCK.fullmatch(shown.strip())
    assert found, f"not a mm:ss countdown: {shown!r}"
    return 60 * int(found[1]) + int(found[2])


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


def send(phone: Page, fill: Callable[[], None], button: str, sent: list[str], answers: int = 0) -> None:
    """Fill the answer form, tap its button, and see "Sent" with everything this phone sent:
    `answers` answers (one per text in `sent`, unless given) that show every text in `sent`."""
    fill()
    submit = phone.locator("#phone form[data-answer] button[type=submit]")
    expect(submit).to_have_text(button)
    submit.tap()
    box = phone.locator("#phone .sent")
    expect(box).to_contain_text("Sent", timeout=WAIT)
    expect(box.locator(".sent__list > li")).to_have_count(answers or len(sent), timeout=WAIT)
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
    flow = load_flow(ROOT / "sessions" / f"{FLOW}.yaml", build_registry())
    assert not any(s.off for s in flow.steps), (
        "a flow file's steps are all on (only a copy switches some off)"
    )
    cards = card_plans(flow)
    timers = timer_plans(flow)

    shots = iter(range(1, 100))

    def shot(page: Page, name: str) -> Path:
        path = artifacts / f"{next(shots):02d}-{name}.png"
        page.screenshot(path=path, animations="disabled")
        return path

    desk = chromium.new_context(viewport=DESKTOP)
    phone_contexts = [phone_context(chromium), phone_context(chromium)]
    try:
        # --- The tovholder logs in and starts the flow in English ---
        console = watcher.watch(desk.new_page(), "console")
        console.goto(f"{server.url}/login")
        console.get_by_label("Email").press_sequentially("t@example.org")
        console.get_by_label("Password").press_sequentially(PASSWORD)
        shot(console, "login")
        console.get_by_role("button", name="Log in").click()
        expect(console).to_have_url(f"{server.url}/dashboard", timeout=WAIT)
        expect(console.get_by_role("heading", name="Start a session")).to_be_visible()
        start = console.locator(f'button[data-flow="{FLOW}"]')
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
        me = [phone.locator("body").get_attribute("data-me") or "" for phone in phones]
        assert all(me) and me[0] != me[1], f"each phone knows its own public id: {me}"

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

        def use_control(step: Step, label: str, action: str) -> None:
            """The tovholder clicks one of the step's own controls on the console (not the projector)."""
            console.bring_to_front()
            button = console.locator(".step-controls form.control--step").get_by_role(
                "button", name=label, exact=True
            )
            expect(button).to_have_count(1, timeout=WAIT)
            with console.expect_response(
                lambda r: r.request.method == "POST" and f"/runs/{run_id}/steps/{step.id}/" in r.url,
                timeout=WAIT,
            ) as reply:
                button.click()
            posted = reply.value.url.rsplit("/", 1)[-1]
            assert posted == action, f"{label!r} on the console posted /{posted}, not /{action}"
            assert reply.value.status == 200, reply.value.text()

        def versions() -> list[int]:
            return [int(page.locator("body").get_attribute("data-version") or 0) for page, _ in screens]

        def projector_fits_both(what: str) -> None:
            assert_fits(projector, f"{what} at 1280x720")
            projector.set_viewport_size(PROJECTOR_FULL_HD)
            assert_fits(projector, f"{what} at 1920x1080")
            projector.set_viewport_size(PROJECTOR)

        def clocks() -> list[tuple[Locator, str]]:
            """The step's countdown on every screen."""
            return [
                (stage.locator(".timer-show .timer-clock"), "projector"),
                (console.locator(".step-controls .timer-show .timer-clock"), "console"),
                *(
                    (phone.locator("#phone .timer-show .timer-clock"), f"phone {i + 1}")
                    for i, phone in enumerate(phones)
                ),
            ]

        def countdown_runs(at_most: int) -> None:
            """Every screen shows a running mm:ss countdown, about the same, and it goes down."""
            first: dict[str, tuple[str, int]] = {}
            ends: set[str | None] = set()
            for clock, name in clocks():
                expect(clock, f"the {name} shows a running clock").to_have_attribute(
                    "data-ends-at", re.compile(r"Z$"), timeout=WAIT
                )
                ends.add(clock.get_attribute("data-ends-at"))
                expect(clock, f"the {name} counts down in mm:ss").to_have_text(CLOCK, timeout=WAIT)
                shown = clock.inner_text()
                first[name] = (shown, clock_seconds(shown))
                # SKEW: a page guesses the server's clock from data-server-now when its script runs,
                # a few hundred ms after the server rendered it, so a fresh 04:00 may show 04:01.
                assert at_most - 5 <= first[name][1] <= at_most + SKEW, (
                    f"the {name} shows {shown} for a countdown of {at_most}s"
                )
            later: dict[str, int] = {}
            for clock, name in clocks():
                expect(clock, f"the {name}'s countdown moves").not_to_have_text(first[name][0], timeout=WAIT)
                later[name] = clock_seconds(clock.inner_text())
                assert later[name] < first[name][1], (
                    f"the {name}'s countdown went up: {first[name]} -> {later[name]}"
                )
            assert len(ends) == 1, f"the screens count down to different ends: {ends}"
            # Read one after another, within about a second, on pages whose clock guesses differ.
            assert max(later.values()) - min(later.values()) <= SKEW + 1, (
                f"the screens disagree on the time: {later}"
            )

        def clock_stands(shown: str, note: str) -> None:
            """Every screen shows the same clock standing still (not started, or paused)."""
            for clock, name in clocks():
                # A running clock can show the same mm:ss for a moment: wait for one that stands.
                standing = clock.and_(clock.page.locator(":not([data-ends-at])"))
                expect(standing, f"the {name}'s clock stands at {shown}").to_have_text(shown, timeout=WAIT)
                expect(clock.locator("xpath=following-sibling::p[1]")).to_have_text(note)

        def send_dots(phone: Page, dots: dict[str, int]) -> Callable[[], None]:
            def fill() -> None:
                for card, n in dots.items():
                    # The card's radio is invisible and covers its numbered button: a finger taps it.
                    radio = phone.get_by_role("group", name=card).get_by_role(
                        "radio", name=str(n), exact=True
                    )
                    radio.tap()
                    expect(radio).to_be_checked()

            return fill

        def reveal_if_hidden(step: Step, answers: int, sent: list[str]) -> None:
            """Hidden results: the projector counts the answers but shows none until Space."""
            if not step.hide_results:
                return
            expect(stage.locator(".hidden-results__count")).to_have_text(str(answers), timeout=WAIT)
            all_answered(answers)
            for item in sent:
                expect(stage).not_to_contain_text(item)
            shot(projector, f"projector-{step.id}-hidden")
            press("Space", "reveal")

        for index, step in enumerate(flow.steps):
            press("ArrowRight", "next")
            everyone_follows(step, index)

            if step.exercise == "talk":
                for phone in phones:
                    expect(phone.locator("#phone")).to_contain_text("Look at the big screen.")
                for point in step.settings.get("points") or []:
                    expect(stage.locator(".points")).to_contain_text(text(point, "en"))

            elif step.exercise == "word_cloud":
                for phone, word in zip(phones, WORDS, strict=True):
                    field = phone.get_by_placeholder("A word or two")
                    send(phone, type_into(field, word), "Send", [word])
                shot(phones[0], f"phone1-{step.id}-word-sent")
                reveal_if_hidden(step, len(WORDS), list(WORDS))
                for word in WORDS:
                    expect(stage.locator(".cloud")).to_contain_text(word, timeout=WAIT)
                all_answered(2)

            elif step.exercise == "open_text":
                plans = cards[step.id]
                for phone, mine in zip(phones, plans, strict=True):
                    for n, card in enumerate(mine):
                        field = phone.locator("#phone textarea[name=text]")
                        send(phone, type_into(field, card), "Send another" if n else "Send", mine[: n + 1])
                        if n + 1 < len(mine):
                            shot(phone, f"{step.id}-phone-sent-one")
                sent = [card for mine in plans for card in mine]
                reveal_if_hidden(step, len(sent), sent)
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
                    sender = next(p for p, mine in zip(phones, plans, strict=True) if XSS in mine)
                    assert XSS in sender.locator("#phone .sent__list").inner_text()
                    assert sender.locator("#phone b, #phone script").count() == 0
                    shot(sender, f"{step.id}-phone-sent-markup-as-text")
                shot(projector, f"projector-{step.id}")

            elif step.exercise == "timer":
                seconds = int(step.settings["seconds"])
                full = f"{seconds // 60:02d}:{seconds % 60:02d}"
                for phone in phones:
                    expect(phone.locator("#phone")).to_contain_text("Look at the big screen.")
                # Until the tovholder starts it, every screen shows the full time, standing still.
                clock_stands(full, "Starts in a moment")
                plan = timers[step.id]
                if plan == "leave":
                    shot(projector, f"projector-{step.id}-not-started")
                else:
                    use_control(step, "Start the timer", "start")
                    countdown_runs(seconds)
                    shot(projector, f"projector-{step.id}-running")
                    shot(phones[1], f"phone2-{step.id}-running")
                    shot(console, f"console-{step.id}-running")
                if "pause" in plan:
                    use_control(step, "Pause", "pause")
                    paused = stage.locator(".timer-clock--paused")
                    expect(paused).to_have_text(CLOCK, timeout=WAIT)
                    left = clock_seconds(paused.inner_text())
                    assert 0 < left < seconds, f"paused at {left}s of {seconds}s"
                    clock_stands(f"{left // 60:02d}:{left % 60:02d}", "Paused")
                    shot(phones[0], f"phone1-{step.id}-paused")
                    use_control(step, "+1 min", "add")
                    left += 60
                    clock_stands(f"{left // 60:02d}:{left % 60:02d}", "Paused")
                    use_control(step, "Resume", "resume")
                    countdown_runs(left)
                projector_fits_both(f"the projector's timer at step {step.id}")

            elif step.exercise == "groups":
                size = int(step.settings["size"])
                roles = [text(r, "en") for r in step.settings.get("roles") or []]
                expected = group_count(len(phones), size)
                before = versions()
                # The tovholder (re)makes the groups on the console; the phones follow without a reload.
                split = console.locator(".step-controls").get_by_role(
                    "button", name=re.compile(r"^(Split into groups|Shuffle and split again)$")
                )
                expect(split).to_have_count(1, timeout=WAIT)
                use_control(step, split.inner_text().strip(), "split")
                for (page, name), was in zip(screens, before, strict=True):
                    expect(page.locator("body"), f"the {name} has the new groups").not_to_have_attribute(
                        "data-version", str(was), timeout=WAIT
                    )
                expect(console.locator(".groups-console__summary")).to_have_text(
                    f"{expected} group{'s' if expected != 1 else ''} · 2 people", timeout=WAIT
                )
                tiles = stage.locator(".group-tile")
                expect(tiles).to_have_count(expected, timeout=WAIT)
                expect(stage.locator(".group-tiles")).to_contain_text("Ada")
                numbers = []
                for i, phone in enumerate(phones):
                    box = phone.locator("#phone .groups-phone__group:visible")
                    expect(box, f"phone {i + 1} shows exactly one group").to_have_count(1, timeout=WAIT)
                    expect(box).to_have_attribute("data-mine", "")
                    members = (box.get_attribute("data-members") or "").split()
                    assert me[i] in members, f"phone {i + 1} shows a group it is not in: {members}"
                    expect(phone.locator("#phone .groups-phone__none")).to_be_hidden()
                    number = box.locator(".groups-phone__number").inner_text()
                    assert re.fullmatch(r"Group \d+", number), number
                    numbers.append(number)
                    expect(tiles.filter(has_text=number)).to_have_count(1)
                    mine = box.locator(".groups-phone__role:visible")
                    if roles:
                        expect(mine).to_have_count(1)
                        expect(mine).to_contain_text("Your role: ")
                    else:
                        expect(phone.locator("#phone .groups-phone__role")).to_have_count(0)
                    # First names of the group's members: Ada (phone 1) gave hers, phone 2 did not.
                    assert ("Ada" in box.inner_text()) == (me[0] in members), box.inner_text()
                if expected == 1:
                    assert numbers == ["Group 1", "Group 1"], numbers
                shot(projector, f"projector-{step.id}")
                shot(phones[0], f"phone1-{step.id}")
                shot(phones[1], f"phone2-{step.id}")
                shot(console, f"console-{step.id}")
                projector_fits_both("the projector's groups")

            elif step.exercise == "dot_vote":
                budget = int(step.settings.get("budget", 5))
                cap = int(step.settings.get("max_per_option") or min(3, budget))
                source = step.settings.get("options_from")
                legends = phones[0].locator("#phone legend.dots-input__text")
                if step.settings.get("options"):
                    options = [text(o["text"], "en") for o in step.settings["options"]]
                elif source in cards:  # the cards of an open-text step, in the order they came
                    options = [card for mine in cards[source] for card in mine]
                else:  # groups of a grouping step: as the phones show them
                    expect(legends.first).to_be_visible(timeout=WAIT)
                    options = legends.all_inner_texts()
                assert len(options) >= 2, f"{step.id}: {options}"
                plans = (spread(options, budget, cap), {options[-1]: min(cap, budget)})
                for phone in phones:
                    expect(phone.locator("#phone legend.dots-input__text")).to_have_text(
                        options, timeout=WAIT
                    )
                    expect(phone.locator("#phone .dots-input__budget")).to_contain_text(
                        plural(budget, "You have %d dot.", "You have %d dots.")
                    )
                if len(options) * cap > budget:
                    # Phone 2 first spends a dot too many: the phone says so and keeps what was chosen.
                    too_many = spread(options, budget + 1, cap)
                    send_dots(phones[1], too_many)()
                    # The server refuses it with 422, which Chromium logs as a failed resource: that one only.
                    watcher.expect_error(
                        "phone2", f"status of 422 (Unprocessable Entity) @ {{'url': '{server.url}/p/"
                    )
                    phones[1].locator("#phone form[data-answer] button[type=submit]").tap()
                    alert = phones[1].locator("#phone .alert[role=alert]")
                    expect(alert).to_have_text(
                        f"That is {budget + 1} dots; you have {budget}. Please take some away.", timeout=WAIT
                    )
                    shot(phones[1], f"phone2-{step.id}-too-many")
                    for card, n in too_many.items():
                        group = phones[1].get_by_role("group", name=card)
                        expect(group.get_by_role("radio", name=str(n), exact=True)).to_be_checked()
                    send_dots(phones[1], {card: 0 for card in too_many if card not in plans[1]})()
                    expect(stage.locator(".stage__tally")).to_have_text("0 answers · 0 of 2 people")
                for phone, dots in zip(phones, plans, strict=True):
                    send(phone, send_dots(phone, dots), "Send", list(dots), answers=1)
                    expect(phone.locator("#phone .dots-sent li")).to_have_count(len(dots))
                    for card, n in dots.items():
                        row = phone.locator("#phone .dots-sent li", has_text=card)
                        expect(row.locator(".dots-sent__n")).to_have_text("●" * n)
                shot(phones[0], f"phone1-{step.id}-dots-sent")
                reveal_if_hidden(step, len(plans), [])
                totals = {card: sum(d.get(card, 0) for d in plans) for card in options}
                ranked = sorted(options, key=lambda o: -totals[o])
                shown = [plural(totals[o], "%d dot", "%d dots") for o in ranked]
                expect(stage.locator(".dots__text")).to_have_text(ranked, timeout=WAIT)
                expect(stage.locator(".dots__n")).to_have_text(shown)
                expect(stage.locator(".dots__row--top .dots__text")).to_have_text(  # the most dots, ties too
                    [o for o in ranked if totals[o] == totals[ranked[0]]]
                )
                expect(stage.locator(".dots__caption")).to_have_text("2 people voted")
                all_answered(2)
                expect(console.locator(".console__preview .dots__n")).to_have_text(shown, timeout=WAIT)
                shot(projector, f"projector-{step.id}")
                projector_fits_both("the projector's dot vote")

            elif step.exercise == "commitments":
                # The tovholder sets the follow-up meeting on the console; the projector shows it.
                console.bring_to_front()
                console.get_by_label("Follow-up meeting").fill(FOLLOW_UP.isoformat())
                use_control(step, "Set the follow-up date", "follow_up")
                follow_up = format_date(FOLLOW_UP, format="full", locale="en")
                expect(stage.locator(".commitments__follow-up")).to_contain_text(follow_up, timeout=WAIT)
                expect(console.get_by_label("Follow-up meeting")).to_have_value(FOLLOW_UP.isoformat())
                for phone, (what, who, when) in zip(phones, COMMITMENTS, strict=True):

                    def commit(
                        phone: Page = phone, what: str = what, who: str = who, when: str = when
                    ) -> None:
                        type_into(phone.get_by_label("What will be done?"), what)()
                        type_into(phone.get_by_label("Who does it?"), who)()
                        type_into(phone.get_by_label("By when?"), when)()

                    send(phone, commit, "Send", [what])
                    expect(phone.locator("#phone .commit-sent__meta")).to_have_text(f"{who} · {when}")
                    more = phone.locator("#phone form[data-answer] button[type=submit]")
                    if int(step.settings.get("max_items", 3)) > 1:  # the phone offers one more, empty
                        expect(more).to_have_text("Send another")
                    else:
                        expect(more).to_have_count(0)
                shot(phones[1], f"phone2-{step.id}-commitment-sent")
                reveal_if_hidden(step, len(COMMITMENTS), [what for what, _, _ in COMMITMENTS])
                rows = stage.locator(".commitment")
                expect(rows).to_have_count(len(COMMITMENTS), timeout=WAIT)
                # The dated one first, as the session's language writes the date; then the one in words.
                dated, worded = COMMITMENTS
                expect(rows.locator(".commitment__what")).to_have_text([dated[0], worded[0]])
                expect(rows.locator(".commitment__who")).to_have_text([dated[1], worded[1]])
                expect(rows.locator(".commitment__when")).to_have_text(
                    [format_date(SOON, format="medium", locale="en"), worded[2]]
                )
                expect(stage.locator(".commitments__total")).to_have_text("2 commitments")
                assert stage.locator(".stage__body i, .stage__body script").count() == 0
                assert phones[1].locator("#phone i").count() == 0
                all_answered(2)
                preview = console.locator(".console__preview")
                for what, _who, _when in COMMITMENTS:
                    expect(preview).to_contain_text(what, timeout=WAIT)
                shot(projector, f"projector-{step.id}")
                projector_fits_both("the projector's commitments")

            elif step.exercise == "scale":
                points = int(step.settings.get("points", 5))
                for phone, value in zip(phones, SCALE, strict=True):
                    option = phone.locator("label.scale-input__option", has_text=str(value))

                    def choose(option: Locator = option, phone: Page = phone, value: int = value) -> None:
                        option.tap()
                        expect(phone.locator(f'input[name="value"][value="{value}"]')).to_be_checked()

                    send(phone, choose, "Send", [f"{value} / {points}"])
                shot(phones[1], f"phone2-{step.id}-scale-sent")
                reveal_if_hidden(step, len(SCALE), [])
                counts = [str(SCALE.count(n)) for n in range(1, points + 1)]
                expect(stage.locator(".scale__n")).to_have_text(counts, timeout=WAIT)
                expect(stage.locator(".scale__caption")).to_contain_text(f"Median {median(SCALE):g}")
                all_answered(2)
                shot(projector, f"projector-{step.id}")

            else:
                # No plan for this kind of step here yet: every screen followed it (above), and the
                # walk goes on without answers. Give it a plan above when the flow starts using it.
                reveal_if_hidden(step, 0, [])

            assert_fits(projector, f"the projector at step {step.id} (1280x720)")
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
        assert watcher.unmet == [], f"errors the test provoked were not logged: {watcher.unmet}"
    finally:
        if watcher.errors or watcher.dialogs:
            print("Browser errors:", *watcher.errors, "Dialogs:", *watcher.dialogs, sep="\n")
        for context in (desk, *phone_contexts):
            context.close()
    assert "Traceback" not in server.log(), server.log()[-3000:]
