"""A person changes or takes back a text answer they sent (issue 11, item 7): while the step is on
the screen and, where it hides its results, until the tovholder shows them. An edit is parsed as
a new answer is; taking one back frees its place for another."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.harness import csrf_of
from tests.inprocess import InProcess


@dataclass
class Phone:
    server: InProcess
    client: httpx.Client
    tovholder: httpx.Client
    run_id: int
    code: str
    step: str

    def screen(self) -> str:
        return self.client.get(f"/p/{self.code}").text

    def post(self, path: str, **data: str) -> httpx.Response:
        csrf = csrf_of(self.client.get(f"/p/{self.code}").text)
        return self.client.post(f"/p/{self.code}{path}", data={"csrf_token": csrf, **data})

    def send(self, text: str) -> None:
        response = self.post("/answer", step=self.step, key=secrets.token_urlsafe(12), text=text)
        assert response.status_code == 303, response.text

    def projector(self) -> str:
        return self.tovholder.get(f"/runs/{self.run_id}/projector").text


@pytest.fixture(scope="module")
def phone(shared_inproc: InProcess) -> Iterator[Phone]:
    tovholder = shared_inproc.login()
    response = tovholder.post("/runs", data={"flow": "reflection", "locale": "en"})
    run_id = int(response.headers["location"].split("/")[2])
    runner = shared_inproc.house.runner
    run = runner.get_run(run_id)
    flow = runner.flow_of(run)
    # do-best: open text, two cards each, results hidden until the tovholder shows them
    target = next(i for i, s in enumerate(flow.steps) if s.id == "do-best")
    assert flow.steps[target].hide_results and flow.steps[target].settings["max_cards"] == 2
    while runner.get_run(run_id).status != "live" or runner.get_run(run_id).step_index < target:
        runner.move(run_id, +1)
    client = shared_inproc.client()
    join = client.get(f"/j/{run.code}")
    assert client.post(f"/j/{run.code}", data={"csrf_token": csrf_of(join.text)}).status_code == 200
    yield Phone(shared_inproc, client, tovholder, run_id, run.code, flow.steps[target].id)
    client.close()
    tovholder.close()


def test_a_sent_card_can_be_changed_and_the_change_reaches_the_results(phone: Phone) -> None:
    phone.send("We drvoe in pairs")
    screen = phone.screen()
    assert "Change it" in screen and "Take back" in screen
    form = phone.client.get(f"/p/{phone.code}/answers/{phone.step}/1/edit").text
    assert "We drvoe in pairs</textarea>" in form
    response = phone.post(f"/answers/{phone.step}/1/edit", text="We drove in pairs")
    assert response.status_code == 303
    assert "We drove in pairs" in phone.screen() and "drvoe" not in phone.screen()
    phone.tovholder.post(f"/runs/{phone.run_id}/reveal")
    assert "We drove in pairs" in phone.projector()
    phone.tovholder.post(f"/runs/{phone.run_id}/hide")


def test_a_change_is_checked_as_a_new_answer_is(phone: Phone) -> None:
    response = phone.post(f"/answers/{phone.step}/1/edit", text="   ")
    assert response.status_code == 422
    assert "Please write something" in response.text
    assert "We drove in pairs" in phone.screen()  # nothing stored is lost


def test_a_card_taken_back_frees_its_place(phone: Phone) -> None:
    phone.send("Second card")
    assert phone.post(f"/answers/{phone.step}/1/withdraw").status_code == 303
    screen = phone.screen()
    assert "We drove in pairs" not in screen and "Second card" in screen
    phone.send("A third card in the freed place")
    screen = phone.screen()
    assert "Second card" in screen and "A third card in the freed place" in screen
    view = phone.server.house.runner.run_view(phone.run_id)
    assert view.current is not None and view.current.answer_count == 2


def test_once_the_results_are_shown_the_cards_stay_as_sent(phone: Phone) -> None:
    assert phone.tovholder.post(f"/runs/{phone.run_id}/reveal").status_code == 303
    assert "Take back" not in phone.screen()
    response = phone.post(f"/answers/{phone.step}/1/withdraw")
    assert response.status_code == 409
    assert re.search(r"can no longer change", response.text)
    response = phone.post(f"/answers/{phone.step}/1/edit", text="Sneaky change")
    assert response.status_code == 409
    assert "Sneaky change" not in phone.projector()
