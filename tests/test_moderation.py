"""Moderation (issue 11): the tovholder takes a card off every screen from the console, and can
show it again; a word filter holds a matching card until the tovholder shows it. The card stays
out of the projector, the results, the exports and the posters, which say how many were hidden;
nothing is deleted, and its author's phone still shows it as sent."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from app.flows import load_flow
from app.runner import InvalidInput
from app.runner.moderation import filter_words, matches
from exercises import build_registry
from tests.harness import ROOT, Server, csrf_of, login, start_run
from tests.inprocess import InProcess

if TYPE_CHECKING:
    from tests.browser import Watcher

pytest_plugins = ["tests.browser"]

KIND = "Thanks to Ola for the calm on the phone."
MEAN = "Per is useless and everyone knows it."
HELD = "The stormy night was chaos."


@dataclass
class Room:
    server: InProcess
    tovholder: httpx.Client
    phones: list[httpx.Client]
    run_id: int
    code: str
    step: str

    @property
    def runner(self):  # type: ignore[no-untyped-def]
        return self.server.house.runner

    def version(self) -> int:
        return int(self.runner.get_run(self.run_id).version)

    @property
    def phone(self) -> httpx.Client:
        return self.phones[0]

    def send(self, text: str, phone: int = 0) -> None:
        page = self.phones[phone].get(f"/p/{self.code}")
        key = secrets.token_urlsafe(12)
        data = {"step": self.step, "key": key, "text": text, "csrf_token": csrf_of(page.text)}
        response = self.phones[phone].post(f"/p/{self.code}/answer", data=data)
        assert response.status_code == 303, response.text

    def answer_id(self, text: str) -> int:
        view = self.runner.run_view(self.run_id)
        assert view.current is not None
        return next(c.answer_id for c in view.current.cards if c.text == text)

    def moderate(self, text: str, action: str) -> httpx.Response:
        aid = self.answer_id(text)
        return self.tovholder.post(
            f"/runs/{self.run_id}/answers/{aid}/{action}",
            data={"version": str(self.version())},
            headers={"HX-Request": "true"},
        )


@pytest.fixture(scope="module")
def room(shared_inproc: InProcess) -> Iterator[Room]:
    tovholder = shared_inproc.login()
    response = tovholder.post("/runs", data={"flow": "reflection", "locale": "en"})
    run_id = int(response.headers["location"].split("/")[2])
    run = shared_inproc.house.runner.get_run(run_id)
    phones = [shared_inproc.client() for _ in range(2)]
    for phone in phones:
        join = phone.get(f"/j/{run.code}")
        assert phone.post(f"/j/{run.code}", data={"csrf_token": csrf_of(join.text)}).status_code == 200
    flow = shared_inproc.house.runner.flow_of(run)
    first_text = next(i for i, s in enumerate(flow.steps) if s.exercise == "open_text" and not s.off)
    runner = shared_inproc.house.runner
    runner.move(run_id, +1)
    while runner.get_run(run_id).step_index < first_text:
        runner.move(run_id, +1)
    runner.set_revealed(run_id, True)
    step = flow.steps[first_text]
    yield Room(shared_inproc, tovholder, phones, run_id, run.code, step.id)
    tovholder.close()
    for phone in phones:
        phone.close()


def test_the_word_filter_reads_whole_words_and_stems() -> None:
    words = filter_words("Useless\n storm* , idiot ;useless")
    assert words == ["useless", "storm*", "idiot"]
    assert matches("Per is USELESS.", words)
    assert matches("A stormy night", words)
    assert not matches("Uselessness is a word", ["useless"])
    assert not matches("Nothing here", words)
    with pytest.raises(InvalidInput):
        filter_words("x" * 61)


def test_a_hidden_card_leaves_every_screen_and_export_and_can_come_back(room: Room) -> None:
    room.send(KIND, phone=1)
    room.send(MEAN, phone=0)
    console = room.tovholder.get(f"/runs/{room.run_id}/console").text
    assert MEAN in console and 'data-moderate="hide"' in console

    hidden = room.moderate(MEAN, "hide")
    assert hidden.status_code == 200
    assert 'data-moderate="show"' in hidden.text  # the console lists it as hidden, to show again

    projector = room.tovholder.get(f"/runs/{room.run_id}/projector").text
    assert KIND in projector
    assert "Per is useless" not in projector
    assert "1 answer hidden by the tovholder" in projector
    results = room.tovholder.get(f"/runs/{room.run_id}/results").text
    assert KIND in results and "Per is useless" not in results
    for kind in ("csv", "md", "json"):
        export = room.tovholder.get(f"/runs/{room.run_id}/export.{kind}")
        assert export.status_code == 200, kind
        assert KIND in export.text and "Per is useless" not in export.text, kind
        if kind != "json":  # the JSON's count is a number, checked below
            assert "1 answer hidden by the tovholder" in export.text, kind  # and says how many
    sheet = list(csv.DictReader(io.StringIO(room.tovholder.get(f"/runs/{room.run_id}/export.csv").text)))
    note = [r for r in sheet if r["answer"] == "1 answer hidden by the tovholder"]
    assert len(note) == 1 and note[0]["participant"] == "" and note[0]["step_id"] == room.step
    posters = room.tovholder.get(f"/runs/{room.run_id}/posters").text
    assert "Per is useless" not in posters
    assert "1 answer of this session that the tovholder hid is left out of the posters" in posters
    summary = json.loads(room.tovholder.get(f"/runs/{room.run_id}/export.json").text)
    step = next(s for s in summary["steps"] if s["id"] == room.step)
    assert step["hidden"] == 1 and len(step["answers"]) == 1
    # Nothing is deleted: the author's phone still shows it as sent.
    phone = room.phone.get(f"/p/{room.code}").text
    assert "Per is useless" in phone

    shown = room.moderate(MEAN, "show")
    assert shown.status_code == 200
    assert "Per is useless" in room.tovholder.get(f"/runs/{room.run_id}/projector").text


def test_the_word_filter_holds_a_card_until_the_tovholder_shows_it(room: Room) -> None:
    response = room.tovholder.post(
        f"/runs/{room.run_id}/word-filter",
        data={"version": str(room.version()), "words": "storm*\nchaos"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "storm*" in response.text
    # The next open-text step, with a fresh limit of cards.
    flow = room.runner.flow_of(room.runner.get_run(room.run_id))
    room.runner.move(room.run_id, +1)
    while flow.steps[room.runner.get_run(room.run_id).step_index].exercise != "open_text":
        room.runner.move(room.run_id, +1)
    room.step = flow.steps[room.runner.get_run(room.run_id).step_index].id
    room.runner.set_revealed(room.run_id, True)
    room.send(HELD)
    projector = room.tovholder.get(f"/runs/{room.run_id}/projector").text
    assert "stormy night" not in projector
    console = room.tovholder.get(f"/runs/{room.run_id}/console").text
    assert "Held by the word filter" in console and "stormy night" in console
    assert "stormy night" in room.phone.get(f"/p/{room.code}").text
    room.moderate(HELD, "show")
    assert "stormy night" in room.tovholder.get(f"/runs/{room.run_id}/projector").text


def test_only_the_sessions_own_answers_can_be_hidden(room: Room, shared_inproc: InProcess) -> None:
    response = room.tovholder.post(
        f"/runs/{room.run_id}/answers/999999/hide", data={"version": str(room.version())}
    )
    assert response.status_code == 404
    assert re.search(r"no such answer", response.text)


# --- in a real browser, over the sockets ---------------------------------------------------------


def test_a_card_hidden_on_the_console_leaves_the_projector_within_a_second(
    shared_sqlite_server: Server, chromium: Browser, watcher: Watcher
) -> None:
    server = shared_sqlite_server
    client = login(server)
    run_id, code = start_run(client)
    flow = load_flow(ROOT / "sessions" / "reflection.yaml", build_registry())
    on = [i for i, s in enumerate(flow.steps) if not s.off]
    target = next(i for i in on if flow.steps[i].exercise == "open_text")
    for _ in range(on.index(target) + 1):
        assert client.post(f"/runs/{run_id}/next").status_code == 303
    client.post(f"/runs/{run_id}/reveal")
    step = flow.steps[target].id
    for text in (KIND, MEAN):
        phone = server.client()
        join = phone.get(f"/j/{code}")
        phone.post(f"/j/{code}", data={"csrf_token": csrf_of(join.text)})
        page = phone.get(f"/p/{code}")
        key = secrets.token_urlsafe(12)
        data = {"step": step, "key": key, "text": text, "csrf_token": csrf_of(page.text)}
        assert phone.post(f"/p/{code}/answer", data=data).status_code == 303
        phone.close()

    context = chromium.new_context(viewport=ViewportSize(width=1280, height=800))
    context.add_cookies([{"name": k, "value": v, "url": server.url} for k, v in client.cookies.items()])
    try:
        projector = watcher.watch(context.new_page(), "projector")
        projector.goto(f"{server.url}/runs/{run_id}/projector")
        console = watcher.watch(context.new_page(), "console")
        console.goto(f"{server.url}/runs/{run_id}/console")
        for page in (projector, console):
            expect(page.locator("#conn")).to_have_attribute("data-state", "online", timeout=15_000)
        expect(projector.locator("#stage")).to_contain_text(MEAN)
        card = console.locator(".moderation__card", has_text=MEAN)
        card.get_by_role("button", name="Hide").click()
        expect(projector.locator("#stage")).not_to_contain_text(MEAN, timeout=1_000)
        expect(projector.locator("#stage")).to_contain_text(KIND)
        expect(projector.locator("#stage")).to_contain_text("1 answer hidden by the tovholder")
        expect(card.get_by_role("button", name="Show again")).to_be_visible()
    finally:
        context.close()
    results = client.get(f"/runs/{run_id}/results").text
    assert KIND in results and MEAN not in results
    for kind in ("csv", "md", "json"):
        export = client.get(f"/runs/{run_id}/export.{kind}").text
        assert KIND in export and "Per is useless" not in export, kind
    client.close()
    assert not watcher.errors, watcher.errors
