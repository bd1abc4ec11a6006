"""A phone in Chromium that loses the network while it sends (Playwright's offline mode): it says
"not sent yet", keeps the answer, and sends it again with the same key when the network is back;
the answer is stored once. And a reply lost on its way back (the server stored the answer, the
phone never heard): the phone sends again with the same key, and it is still stored once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from playwright.sync_api import Browser, Page, Route, expect
from sqlalchemy import create_engine, text

from tests.harness import Server, login, start_run
from tests.test_crash import FLOW

pytest_plugins = ["tests.browser"]

NOT_SENT = "Not sent yet"


@pytest.fixture(scope="module")
def code(shared_sqlite_server: Server) -> str:
    """A session of the crash check's flow (one step of cards), on that step."""
    tov = login(shared_sqlite_server)
    upload = yaml.safe_dump(FLOW).encode()
    r = tov.post("/flows/import", files={"file": ("cards.yaml", upload, "application/x-yaml")})
    assert r.status_code == 303, r.text
    run_id, code = start_run(tov, "crash-check")
    assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
    tov.close()
    return code


@pytest.fixture
def phone(chromium: Browser, shared_sqlite_server: Server, code: str) -> Iterator[Page]:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{shared_sqlite_server.url}/j/{code}")
    page.locator("form button[type=submit]").click()
    expect(page.locator("#phone textarea[name=text]")).to_be_visible()
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")
    yield page
    context.close()


def stored(server: Server, typed: str) -> list[str]:
    """The keys of the answers whose text is `typed`."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(text("SELECT idempotency_key, payload FROM answer")).all()
    finally:
        engine.dispose()
    return [key for key, payload in rows if typed in str(payload)]


def test_an_answer_sent_offline_waits_and_goes_once_with_its_key(
    phone: Page, shared_sqlite_server: Server
) -> None:
    typed = "sent while the train was in a tunnel"
    form = phone.locator("form[data-answer]")
    phone.locator("#phone textarea[name=text]").fill(typed)
    phone.context.set_offline(True)
    form.locator("button[type=submit]").click()
    note = phone.locator('[data-role="retry-note"]')
    expect(note).to_be_visible()
    expect(note).to_contain_text(NOT_SENT)
    key = form.locator("input[name=key]").input_value()
    assert len(key) >= 16
    phone.wait_for_timeout(2500)  # a retry or two, while still offline
    assert stored(shared_sqlite_server, typed) == []
    phone.context.set_offline(False)
    expect(phone.locator("#phone")).to_contain_text(typed)  # shown as sent
    expect(note).to_be_hidden()
    assert stored(shared_sqlite_server, typed) == [key]


def test_a_lost_reply_is_sent_again_with_the_same_key_and_stored_once(
    phone: Page, shared_sqlite_server: Server
) -> None:
    typed = "the reply to this one got lost"
    lost: list[str] = []

    def lose_first_reply(route: Route) -> None:
        if lost:
            route.continue_()
            return
        route.fetch()  # the server gets it and stores it...
        lost.append(route.request.post_data or "")
        route.abort("connectionreset")  # ...and the phone never hears back

    phone.route("**/answer", lose_first_reply)
    phone.locator("#phone textarea[name=text]").fill(typed)
    phone.locator("form[data-answer] button[type=submit]").click()
    expect(phone.locator("#phone")).to_contain_text(typed)
    assert lost, "the first reply was not lost"
    [key] = stored(shared_sqlite_server, typed)
    assert f"key={key}" in lost[0]
