"""Bad input over HTTP to the app in process: each refusal is a 4xx with a message a person can act on, and
nothing stored changes. For htmx requests the message goes to #flash, never over the screen."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.flows import load_flow
from exercises import build_registry
from tests.harness import ROOT, csrf_of, start_run
from tests.inprocess import InProcess

FLOW = load_flow(ROOT / "sessions" / "reflection.yaml", build_registry())
STEP_IDS = [s.id for s in FLOW.steps]
# An open-text step whose results show at once, and a word-cloud step.
CARDS = next(s for s in FLOW.steps if s.exercise == "open_text" and not s.hide_results)
WORDS = next(s for s in FLOW.steps if s.exercise == "word_cloud")
CARDS_CAP = int(CARDS.settings["max_length"])
HTMX = {"HX-Request": "true"}


def stored(app: InProcess) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a request could change, read straight from the app's SQLite file."""
    with closing(sqlite3.connect(app.data_dir / "tovholder.db")) as conn:
        return {
            "runs": conn.execute(
                "SELECT id, status, step_index, version, revealed, timer_ends_at, closed_at"
                " FROM run ORDER BY id"
            ).fetchall(),
            "participants": conn.execute(
                "SELECT id, run_id, display_name FROM participant ORDER BY id"
            ).fetchall(),
            "answers": conn.execute(
                "SELECT id, participant_id, step_id, seq, payload FROM answer ORDER BY id"
            ).fetchall(),
            "accounts": conn.execute("SELECT id, email FROM facilitator ORDER BY id").fetchall(),
        }


def key() -> str:
    return secrets.token_urlsafe(16)


def wrong_code(code: str) -> str:
    """A well-formed code that differs from the run's."""
    return ("A" if code[0] != "A" else "C") + code[1:]


def assert_htmx_error(response: httpx.Response, message: str) -> None:
    """An htmx error is a small fragment aimed at #flash; it never replaces the screen."""
    assert response.headers.get("hx-retarget") == "#flash", dict(response.headers)
    assert response.headers.get("hx-reswap") == "innerHTML"
    assert "<html" not in response.text and 'id="phone"' not in response.text
    assert 'role="alert"' in response.text
    assert message in response.text


@dataclass
class Room:
    server: InProcess
    tov: httpx.Client
    run_id: int
    code: str
    phone: httpx.Client
    csrf: str

    def move_to(self, step_id: str) -> None:
        for _ in range(STEP_IDS.index(step_id) + 1):
            assert self.tov.post(f"/runs/{self.run_id}/next").status_code == 303

    def answer(
        self,
        data: dict[str, str],
        *,
        htmx: bool = False,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        return (client or self.phone).post(f"/p/{self.code}/answer", data=data, headers=HTMX if htmx else {})


def join(app: InProcess, code: str, **client_args: Any) -> tuple[httpx.Client, str]:
    phone = app.client(**client_args)
    page = phone.get(f"/j/{code}")
    assert page.status_code == 200, page.text
    csrf = csrf_of(page.text)
    joined = phone.post(f"/j/{code}", data={"name": "", "csrf_token": csrf})
    assert joined.status_code == 200, joined.text  # the reply is the phone's page
    assert 'data-role="phone"' in joined.text
    assert "tov_p" in phone.cookies
    return phone, csrf


def make_room(server: InProcess) -> Iterator[Room]:
    log_start = len(server.log())
    tov = server.login()
    run_id, code = start_run(tov)
    phone, csrf = join(server, code)
    yield Room(server, tov, run_id, code, phone, csrf)
    tov.close()
    phone.close()
    new_log = server.log()[log_start:]
    assert "Traceback" not in new_log, new_log[-3000:]


@pytest.fixture
def room(shared_inproc: InProcess) -> Iterator[Room]:
    """A new run of the reflection flow on the module's app, a logged-in tovholder and one
    joined phone. Each test compares the whole database before and after, so a shared app
    still shows what one request changed."""
    yield from make_room(shared_inproc)


@pytest.fixture
def own_room(inproc: InProcess) -> Iterator[Room]:
    """The same on an app of its own: for the rate limit, which is per address and per process
    (each in-process app's clients have an address of their own)."""
    yield from make_room(inproc)


# --- answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_answer_over_its_length_cap_is_422_and_keeps_the_typed_text(room: Room, htmx: bool) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    typed = "Ærlig talt gikk det bra " * (CARDS_CAP // 20)
    assert len(typed.strip()) > CARDS_CAP
    r = room.answer({"step": CARDS.id, "key": key(), "text": typed, "csrf_token": room.csrf}, htmx=htmx)
    assert r.status_code == 422
    assert f"the limit here is {CARDS_CAP}" in r.text
    assert typed.strip() in r.text, "the typed text comes back, so nothing is lost"
    assert 'id="phone"' in r.text  # the phone's screen again, with the form and the message
    assert "hx-retarget" not in r.headers
    assert stored(room.server) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_answer_to_an_unknown_step_is_404_with_a_message(room: Room, htmx: bool) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.answer({"step": "no-such-step", "key": key(), "text": "hi", "csrf_token": room.csrf}, htmx=htmx)
    assert r.status_code == 404
    assert "This session has no step no-such-step." in r.text
    if htmx:
        assert_htmx_error(r, "no-such-step")
    assert stored(room.server) == before


def test_answer_to_a_step_that_is_not_current_is_409_with_a_message(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.answer({"step": WORDS.id, "key": key(), "word": "storm", "csrf_token": room.csrf}, htmx=True)
    assert r.status_code == 409
    assert_htmx_error(r, "This question is closed")
    assert stored(room.server) == before


def test_answer_without_a_step_field_is_400(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.answer({"key": key(), "text": "hello", "csrf_token": room.csrf})
    assert r.status_code == 400
    assert "did not say which question" in r.text
    assert stored(room.server) == before


def test_answer_without_a_valid_key_is_400(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    for bad in ("", "short", "not a key!"):
        r = room.answer({"step": CARDS.id, "key": bad, "text": "hello", "csrf_token": room.csrf})
        assert r.status_code == 400
        assert "without a valid key" in r.text
    assert stored(room.server) == before


def test_answer_with_too_many_fields_is_400(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    data = {"step": CARDS.id, "key": key(), "text": "hi", "csrf_token": room.csrf}
    data.update({f"extra{i}": "x" for i in range(125)})  # the cap is 120: a large matrix fits under it
    r = room.answer(data)
    assert r.status_code == 400
    assert "too many fields" in r.text
    assert stored(room.server) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_answer_from_a_phone_without_a_participant_cookie_is_403(room: Room, htmx: bool) -> None:
    room.move_to(CARDS.id)
    stranger = room.server.client()
    csrf = csrf_of(stranger.get(f"/j/{room.code}").text)  # looked at the join page, never joined
    before = stored(room.server)
    r = room.answer(
        {"step": CARDS.id, "key": key(), "text": "let me in", "csrf_token": csrf}, htmx=htmx, client=stranger
    )
    assert r.status_code == 403
    assert "Your phone is not in a session yet" in r.text
    if htmx:
        assert_htmx_error(r, "Join with the code")
    assert stored(room.server) == before


def test_answer_with_a_forged_participant_cookie_is_403(room: Room) -> None:
    room.move_to(CARDS.id)
    room.phone.cookies.set("tov_p", "forged-" + secrets.token_urlsafe(24))
    before = stored(room.server)
    r = room.answer({"step": CARDS.id, "key": key(), "text": "hi", "csrf_token": room.csrf})
    assert r.status_code == 403
    assert "Join again with the code" in r.text
    assert stored(room.server) == before


def test_script_in_an_answer_is_stored_as_text_and_shown_escaped(room: Room) -> None:
    room.move_to(CARDS.id)
    script = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    r = room.answer({"step": CARDS.id, "key": key(), "text": script, "csrf_token": room.csrf}, htmx=True)
    assert r.status_code == 201, r.text
    assert "&lt;script&gt;" in r.text and "<script>alert" not in r.text  # the phone's "sent" list

    answers = stored(room.server)["answers"]
    assert [json.loads(a[4])["text"] for a in answers] == [script]  # stored exactly as typed

    for path in (f"/runs/{room.run_id}/results", f"/runs/{room.run_id}/projector"):
        page = room.tov.get(path)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(" in page.text, path
        assert "<script>alert" not in page.text, path
        assert "<img src=x" not in page.text, path


# --- joining -----------------------------------------------------------------------------------------


def test_wrong_join_code_is_404_with_a_message(room: Room) -> None:
    before = stored(room.server)
    wrong = wrong_code(room.code)
    r = room.server.client().get(f"/j/{wrong}")
    assert r.status_code == 404
    assert f"No session has the code {wrong}" in r.text
    assert "Check the code on the big screen" in r.text
    assert stored(room.server) == before


def test_wrong_code_typed_on_the_start_page_is_404_with_a_message(room: Room) -> None:
    wrong = wrong_code(room.code)
    typed = " ".join(wrong.lower())  # as a person types it, in any case and with spaces
    client = room.server.client()
    r = client.get("/join", params={"code": typed})
    assert r.status_code == 303
    assert r.headers["location"] == f"/j/{wrong}"
    r = client.get(r.headers["location"])
    assert r.status_code == 404
    assert f"No session has the code {wrong}" in r.text


def test_right_code_typed_on_the_start_page_leads_to_the_join_page(room: Room) -> None:
    client = room.server.client(follow_redirects=True)
    r = client.get("/join", params={"code": room.code.lower()})
    assert r.status_code == 200
    assert f'action="/j/{room.code}"' in r.text


@pytest.mark.parametrize("typed", ["", "   ", "---"])
def test_empty_code_on_the_start_page_is_400_with_a_message(room: Room, typed: str) -> None:
    r = room.server.client().get("/join", params={"code": typed})
    assert r.status_code == 400
    assert "Type the code you see on the big screen." in r.text


def test_joining_with_a_wrong_code_is_404_and_stores_nobody(room: Room) -> None:
    client = room.server.client()
    csrf = csrf_of(client.get("/").text)
    before = stored(room.server)
    r = client.post(f"/j/{wrong_code(room.code)}", data={"name": "Eve", "csrf_token": csrf})
    assert r.status_code == 404
    assert "No session has the code" in r.text
    assert "tov_p" not in client.cookies
    assert stored(room.server) == before


def test_joining_with_a_name_over_forty_characters_is_422_and_keeps_the_name(room: Room) -> None:
    client = room.server.client()
    csrf = csrf_of(client.get(f"/j/{room.code}").text)
    before = stored(room.server)
    name = "Bjørnstjerne Martinius Bjørnson den Eldre"
    assert len(name) > 40
    r = client.post(f"/j/{room.code}", data={"name": name, "csrf_token": csrf})
    assert r.status_code == 422
    assert "A name is at most 40 characters." in r.text
    assert f'value="{name}"' in r.text
    assert stored(room.server) == before


def test_joining_a_closed_session_is_409_with_a_message(room: Room) -> None:
    assert room.tov.post(f"/runs/{room.run_id}/close").status_code == 303
    client = room.server.client()
    csrf = csrf_of(client.get(f"/j/{room.code}").text)
    before = stored(room.server)
    r = client.post(f"/j/{room.code}", data={"csrf_token": csrf})
    assert r.status_code == 409
    assert "This session has ended" in r.text
    assert stored(room.server) == before


def test_wrong_join_codes_are_rate_limited_per_address(own_room: Room) -> None:
    """After 20 wrong codes in a minute that begin alike, an address gets 429 for any code that
    begins so (app/ratelimits.py). The right code, which begins otherwise, still joins: a wrong
    code never blocks the right one. Phones already in keep working; other addresses join."""
    room = own_room
    wrong = wrong_code(room.code)
    guesser = room.server.client()
    for _ in range(20):
        assert guesser.get(f"/j/{wrong}").status_code == 404
    before = stored(room.server)

    blocked = guesser.get(f"/j/{wrong}")
    assert blocked.status_code == 429
    assert "Too many tries. Wait a minute and try again." in blocked.text
    assert guesser.get(f"/j/{wrong[:2]}XXXX").status_code == 429
    csrf = csrf_of(guesser.get("/").text)
    assert guesser.post(f"/j/{wrong}", data={"csrf_token": csrf}).status_code == 429
    assert stored(room.server) == before
    assert guesser.get(f"/j/{room.code}").status_code == 200

    # The phone that joined before (same address) still follows and answers.
    room.move_to(CARDS.id)
    assert room.phone.get(f"/p/{room.code}").status_code == 200
    r = room.answer(
        {"step": CARDS.id, "key": key(), "text": "still here", "csrf_token": room.csrf}, htmx=True
    )
    assert r.status_code == 201

    # Another address is counted apart: a wrong code is a plain 404 there, and the right one joins.
    other = {"address": "192.0.2.2"}
    with room.server.client(**other) as elsewhere:
        assert elsewhere.get(f"/j/{wrong}").status_code == 404
    phone, _ = join(room.server, room.code, **other)
    phone.close()


def test_a_room_behind_one_address_joins_freely(own_room: Room) -> None:
    """Right codes are not counted: thirty phones behind one Wi-Fi router all get in."""
    room = own_room
    for _ in range(30):
        phone, _ = join(room.server, room.code)
        phone.close()
    assert len(stored(room.server)["participants"]) == 31


# --- CSRF --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_answer_without_a_csrf_token_is_403(room: Room, htmx: bool) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.answer({"step": CARDS.id, "key": key(), "text": "hello"}, htmx=htmx)
    assert r.status_code == 403
    assert "This form has expired or came from another site." in r.text
    if htmx:
        assert_htmx_error(r, "Reload the page")
    assert stored(room.server) == before


@pytest.mark.parametrize("where", ["form", "header"])
def test_answer_with_a_wrong_csrf_token_is_403(room: Room, where: str) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    data = {"step": CARDS.id, "key": key(), "text": "hello"}
    forged = secrets.token_urlsafe(24)
    if where == "form":
        r = room.answer({**data, "csrf_token": forged})
    else:
        r = room.phone.post(f"/p/{room.code}/answer", data=data, headers={**HTMX, "X-CSRF-Token": forged})
    assert r.status_code == 403
    assert "This form has expired" in r.text
    assert stored(room.server) == before


def test_csrf_token_without_its_cookie_is_403(room: Room) -> None:
    """A token lifted from another browser does not work without that browser's cookie."""
    room.move_to(CARDS.id)
    participant = room.phone.cookies["tov_p"]
    bare = room.server.client(cookies={"tov_p": participant})
    before = stored(room.server)
    r = room.answer({"step": CARDS.id, "key": key(), "text": "hello", "csrf_token": room.csrf}, client=bare)
    assert r.status_code == 403
    assert stored(room.server) == before


@pytest.mark.parametrize("token", [None, "wrong"], ids=["missing", "wrong"])
def test_login_without_the_right_csrf_token_is_403_and_logs_nobody_in(room: Room, token: str | None) -> None:
    client = room.server.client()
    client.get("/login")
    data = {"email": "t@example.org", "password": "correct-horse-battery"}
    if token:
        data["csrf_token"] = token
    r = client.post("/login", data=data)
    assert r.status_code == 403
    assert "This form has expired or came from another site." in r.text
    assert "tov_auth" not in client.cookies
    assert client.get("/dashboard").status_code == 303


def test_control_without_a_csrf_token_is_403_and_the_run_does_not_move(room: Room) -> None:
    before = stored(room.server)
    del room.tov.headers["X-CSRF-Token"]
    r = room.tov.post(f"/runs/{room.run_id}/next")
    assert r.status_code == 403
    assert stored(room.server) == before


# --- malformed forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("next", {"version": "abc"}, "version"),
        ("back", {"version": "1.5"}, "version"),
        ("timer", {"seconds": "abc"}, "seconds"),
        ("timer", {"seconds": "-5"}, "seconds"),
        ("timer", {"seconds": str(4 * 3600 + 1)}, "seconds"),
    ],
)
def test_malformed_control_form_is_400_and_the_run_does_not_change(
    room: Room, action: str, data: dict[str, str], field: str
) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.tov.post(f"/runs/{room.run_id}/{action}", data=data)
    assert r.status_code == 400
    assert f"The form was incomplete or malformed ({field})" in r.text
    assert stored(room.server) == before


def test_a_control_field_sent_empty_takes_its_default_and_an_unknown_one_is_not_read(room: Room) -> None:
    """As FastAPI's form models read them (the controls' forms are read by app/deps.py form_model)."""
    room.move_to(CARDS.id)
    before = next(r[3] for r in stored(room.server)["runs"] if r[0] == room.run_id)
    r = room.tov.post(
        f"/runs/{room.run_id}/back", data={"version": "", "region": "", "surprise": "x"}, headers=HTMX
    )
    assert r.status_code == 200  # not 400: the empty version is no version, so the move is made
    assert next(r[3] for r in stored(room.server)["runs"] if r[0] == room.run_id) == before + 1


def test_malformed_control_form_from_htmx_goes_to_flash(room: Room) -> None:
    before = stored(room.server)
    r = room.tov.post(f"/runs/{room.run_id}/next", data={"version": "abc"}, headers=HTMX)
    assert r.status_code == 400
    assert_htmx_error(r, "(version)")
    assert stored(room.server) == before


def test_unknown_control_action_is_404(room: Room) -> None:
    before = stored(room.server)
    r = room.tov.post(f"/runs/{room.run_id}/explode")
    assert r.status_code == 404
    assert "There is nothing at this address." in r.text
    assert stored(room.server) == before


def test_control_of_an_unknown_run_is_404(room: Room) -> None:
    before = stored(room.server)
    r = room.tov.post("/runs/99999/next")
    assert r.status_code == 404
    assert "There is no such session." in r.text
    r = room.tov.post("/runs/not-a-number/next")
    assert r.status_code == 400
    assert "(run_id)" in r.text
    assert stored(room.server) == before


def test_stale_version_from_htmx_is_409_with_the_current_console(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    r = room.tov.post(f"/runs/{room.run_id}/next", data={"version": "1"}, headers=HTMX)
    assert r.status_code == 409
    current_version = next(r[3] for r in before["runs"] if r[0] == room.run_id)
    assert f'data-version="{current_version}"' in r.text  # where the run now is, not an error
    assert stored(room.server) == before


# --- huge bodies ----------------------------------------------------------------------------------------

BIG = 64 * 1024 + 1


def chunks(data: bytes) -> Iterator[bytes]:
    """A body without Content-Length (chunked), so the cap must hold while it is being read."""
    for i in range(0, len(data), 4096):
        yield data[i : i + 4096]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["answer", "login", "join"])
def test_huge_body_is_413_with_a_message(room: Room, path: str, chunked: bool) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    url = {"answer": f"/p/{room.code}/answer", "login": "/login", "join": f"/j/{room.code}"}[path]
    body = f"step={CARDS.id}&key={key()}&csrf_token={room.csrf}&text=".encode() + b"a" * BIG
    r = room.phone.post(
        url,
        content=chunks(body) if chunked else body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert "That was too much at once: the request is over the size limit." in r.text
    assert stored(room.server) == before


def test_huge_body_from_htmx_goes_to_flash(room: Room) -> None:
    room.move_to(CARDS.id)
    before = stored(room.server)
    body = f"step={CARDS.id}&key={key()}&text=".encode() + b"a" * BIG
    r = room.phone.post(
        f"/p/{room.code}/answer",
        content=body,
        headers={**HTMX, "X-CSRF-Token": room.csrf, "content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413
    assert_htmx_error(r, "too much at once")
    assert stored(room.server) == before


def test_a_body_just_under_the_cap_is_read(room: Room) -> None:
    """The cap is on size, not on content: a big but allowed body gets the ordinary 422."""
    room.move_to(CARDS.id)
    before = stored(room.server)
    head = f"step={CARDS.id}&key={key()}&csrf_token={room.csrf}&text=".encode()
    body = head + b"a" * (64 * 1024 - len(head))
    r = room.phone.post(
        f"/p/{room.code}/answer", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 422
    assert stored(room.server) == before
