"""The refusals of issue 10, over HTTP in process: each hole an attacker or a careless network
found, and that it is closed. CSRF tied to the login and to our own origin; logins the server can
end; joins capped and limited so a script notices and a room does not; a wrong code never blocks
the right one; `/p/` tells no more than `/j/`; login failures counted per account; runs without an
owner; secure cookies and HSTS behind https; headers on every reply; limits shared through Redis."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.conftest import running_inprocess
from tests.databases import Templates, add_account
from tests.harness import PASSWORD, REDIS_URL, csrf_of, require_service, start_run
from tests.inprocess import InProcess

OTHER = "other@example.org"


def run_state(app: InProcess, run_id: int) -> tuple[str, int]:
    with closing(sqlite3.connect(app.data_dir / "tovholder.db")) as conn:
        status, step = conn.execute("SELECT status, step_index FROM run WHERE id = ?", (run_id,)).fetchone()
    return str(status), int(step)


def participants(app: InProcess) -> int:
    with closing(sqlite3.connect(app.data_dir / "tovholder.db")) as conn:
        return int(conn.execute("SELECT count(*) FROM participant").fetchone()[0])


def other_code(code: str, prefix: str) -> str:
    """A well-formed code that is not `code`, starting with `prefix`."""
    for tail in ("XXXX", "YYYY", "WWWW"):
        guess = (prefix + tail + code)[: len(code)]
        if guess != code:
            return guess
    raise AssertionError


def without_times(html: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z?", "T", html)


def join(client: httpx.Client, code: str, name: str = "") -> httpx.Response:
    token = client.cookies.get("tov_csrf") or csrf_of(client.get("/").text)
    return client.post(f"/j/{code}", data={"name": name, "csrf_token": token})


# --- 1. CSRF: tied to the login, rotated, and refused from another origin ----------------------


def test_a_planted_csrf_cookie_does_not_move_the_run(inproc: InProcess) -> None:
    """A page on another port of the host set `tov_csrf` before the tovholder logged in, and
    posts the same value as the form's token: refused, the run stays where it was."""
    tov = inproc.login()
    run_id, _ = start_run(tov)
    before = run_state(inproc, run_id)
    planted = "planted-by-the-attacker-123456"
    tov.cookies.set("tov_csrf", planted)
    r = tov.post(f"/runs/{run_id}/next", data={"csrf_token": planted}, headers={"X-CSRF-Token": planted})
    assert r.status_code == 403, r.text
    assert run_state(inproc, run_id) == before
    # The page's own token still works.
    assert tov.post(f"/runs/{run_id}/next").status_code in (200, 303)
    assert run_state(inproc, run_id) != before


def test_the_csrf_token_changes_at_login_and_logout(inproc: InProcess) -> None:
    browser = inproc.client()
    anonymous = csrf_of(browser.get("/login").text)
    r = browser.post("/login", data={"email": "t@example.org", "password": PASSWORD, "csrf_token": anonymous})
    assert r.status_code == 303
    logged_in = csrf_of(browser.get("/dashboard").text)
    assert logged_in != anonymous
    # The token of before the login opens nothing now.
    assert browser.post("/runs", data={"flow": "reflection", "csrf_token": anonymous}).status_code == 403
    assert browser.post("/logout", data={"csrf_token": logged_in}).status_code == 303
    after = csrf_of(browser.get("/login").text)
    assert after not in (anonymous, logged_in)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:9999"},  # another port of the same host
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["other-port", "other-site", "null-origin", "cross-site", "same-site"],
)
def test_a_write_from_another_origin_is_refused(inproc: InProcess, headers: dict[str, str]) -> None:
    tov = inproc.login()
    run_id, _ = start_run(tov)
    before = run_state(inproc, run_id)
    r = tov.post(f"/runs/{run_id}/next", headers=headers)
    assert r.status_code == 403, r.text
    assert run_state(inproc, run_id) == before
    same = {"Origin": inproc.url, "Sec-Fetch-Site": "same-origin"}
    assert tov.post(f"/runs/{run_id}/next", headers=same).status_code in (200, 303)


# --- 3. Logins the server can end --------------------------------------------------------------


def saved_login(client: httpx.Client) -> str:
    value = client.cookies.get("tov_auth")
    assert value
    return value


def opens_dashboard(app: InProcess, login_cookie: str) -> bool:
    with app.client(cookies={"tov_auth": login_cookie}) as replay:
        return replay.get("/dashboard").status_code == 200


def test_logout_ends_the_login_on_the_server(inproc: InProcess) -> None:
    tov = inproc.login()
    cookie = saved_login(tov)
    other = saved_login(inproc.login())  # the same account in another browser
    assert opens_dashboard(inproc, cookie)
    assert tov.post("/logout").status_code == 303
    assert not opens_dashboard(inproc, cookie)
    assert opens_dashboard(inproc, other)  # only this login ended


def test_logout_all_and_a_password_change_end_every_login(inproc: InProcess) -> None:
    first, second = saved_login(inproc.login()), saved_login(inproc.login())
    done = inproc.cli("user", "logout-all", "t@example.org")
    assert done.returncode == 0, done.stderr
    assert not opens_dashboard(inproc, first) and not opens_dashboard(inproc, second)
    third = saved_login(inproc.login())
    new_password = "another-long-password"
    changed = inproc.cli("user", "password", "t@example.org", "--password-stdin", stdin=new_password + "\n")
    assert changed.returncode == 0, changed.stderr
    assert not opens_dashboard(inproc, third)
    assert opens_dashboard(inproc, saved_login(inproc.login(password=new_password)))
    unknown = inproc.cli("user", "logout-all", "nobody@example.org")
    assert unknown.returncode == 1 and "nobody@example.org" in unknown.stderr


def test_logins_that_ended_are_forgotten_at_start_up(inproc: InProcess) -> None:
    tov = inproc.login()
    kept = saved_login(inproc.login())
    assert tov.post("/logout").status_code == 303
    with closing(sqlite3.connect(inproc.data_dir / "tovholder.db")) as conn:
        assert conn.execute("SELECT count(*) FROM login").fetchone()[0] == 2
    assert inproc.house.accounts.forget_ended_logins() == 1
    with closing(sqlite3.connect(inproc.data_dir / "tovholder.db")) as conn:
        assert conn.execute("SELECT count(*) FROM login").fetchone()[0] == 1
    assert opens_dashboard(inproc, kept)


# --- 4, 5, 6. Joins --------------------------------------------------------------------------------


@pytest.fixture
def small_room(templates: Templates, tmp_path: Path) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path, max_participants=5) as app:
        yield app


def test_a_session_takes_at_most_its_maximum_of_participants(small_room: InProcess) -> None:
    _, code = start_run(small_room.login())
    for n in range(5):
        assert join(small_room.client(), code, f"p{n}").status_code == 200
    full = join(small_room.client(), code, "one too many")
    assert full.status_code == 409
    assert "full" in full.text
    assert participants(small_room) == 5


def test_a_room_of_forty_joins_freely_but_a_script_is_stopped(inproc: InProcess) -> None:
    """Forty phones behind one address join within a minute and never see a limit; one client
    joining again and again is refused long before a thousand."""
    _, code = start_run(inproc.login())
    for n in range(40):
        assert join(inproc.client(), code, f"phone {n}").status_code == 200
    script = inproc.client()
    answers = []
    for n in range(60):
        script.cookies.delete("tov_p")  # a new phone each time (with its cookie, it is the same one)
        answers.append(join(script, code, f"bot {n}").status_code)
    assert 429 in answers
    assert participants(inproc) < 100
    script.cookies.delete("tov_p")
    blocked = join(script, code, "bot")
    assert blocked.status_code == 429
    assert "Too many" in blocked.text


def test_the_join_form_sent_again_shows_the_same_phone_and_makes_no_second(inproc: InProcess) -> None:
    """The join's reply is the phone's page; sent again (a reload where no script ran to put /p/
    in the address bar), the same form gives the same phone, not a second participant."""
    _, code = start_run(inproc.login())
    phone = inproc.client()
    first = join(phone, code, "Kari")
    assert first.status_code == 200 and 'data-role="phone"' in first.text
    me = phone.cookies["tov_p"]
    again = join(phone, code, "Kari")
    assert again.status_code == 200 and 'data-role="phone"' in again.text
    assert phone.cookies["tov_p"] == me
    assert participants(inproc) == 1
    other = inproc.client()
    assert join(other, code, "Ola").status_code == 200
    assert participants(inproc) == 2


def test_p_answers_as_j_does_for_an_unknown_code_and_is_limited(inproc: InProcess) -> None:
    _, code = start_run(inproc.login())
    wrong = other_code(code, "BB")
    guesser = inproc.client()
    by_j = guesser.get(f"/j/{wrong}")
    by_p = guesser.get(f"/p/{wrong}")
    assert by_p.status_code == by_j.status_code == 404
    # The same page, but for the language links back to the address it was asked at.
    assert without_times(by_p.text).replace(f"/p/{wrong}", f"/j/{wrong}") == without_times(by_j.text)
    statuses = [guesser.get(f"/p/{other_code(code, 'BB')[:2]}{n:04d}").status_code for n in range(40)]
    assert 429 in statuses


def test_a_wrong_code_never_blocks_the_right_one(inproc: InProcess) -> None:
    """Someone in the room types wrong codes, many of them: the others on the same address still
    join with the right code. The wrong ones are counted, and are refused after a while."""
    _, code = start_run(inproc.login())
    prefixes = [a + b for a in "ACDEFH" for b in "JKMN" if not code.startswith(a + b)]
    careless = inproc.client()
    statuses = []
    for n in range(50):
        statuses.append(careless.get(f"/j/{other_code(code, prefixes[n % 2])}").status_code)
        statuses.append(careless.get(f"/j/{other_code(code, prefixes[2 + n % 20])}").status_code)
    assert 429 in statuses  # guessing is limited
    neighbour = inproc.client()  # same address
    assert neighbour.get(f"/j/{code}").status_code == 200
    assert join(neighbour, code, "on time").status_code == 200
    assert join(careless, code, "at last").status_code == 200


def test_wrong_passwords_for_one_account_do_not_lock_out_another(inproc: InProcess) -> None:
    add_account(inproc.database_url, OTHER)
    guesser = inproc.client()
    for _ in range(12):
        token = csrf_of(guesser.get("/login").text)
        guesser.post("/login", data={"email": OTHER, "password": "wrong-password", "csrf_token": token})
    token = csrf_of(guesser.get("/login").text)
    locked = guesser.post("/login", data={"email": OTHER, "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429
    # The tovholder on the same address (a meeting room) logs in with the right password.
    assert saved_login(inproc.login())
    # And the other account from another address.
    with inproc.client(address="192.0.2.50") as elsewhere:
        token = csrf_of(elsewhere.get("/login").text)
        r = elsewhere.post("/login", data={"email": OTHER, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303


# --- 9. Runs without an owner ------------------------------------------------------------------------


def test_a_demo_made_before_any_account_belongs_to_the_first_account(fresh_inproc: InProcess) -> None:
    made = fresh_inproc.cli("demo", "--flow", "reflection", "--participants", "5", "--seed", "1")
    assert made.returncode == 0, made.stderr
    run_id = int(made.stdout.strip())
    [token] = re.findall(r"/setup/([A-Za-z0-9_-]+)", fresh_inproc.log())
    first = fresh_inproc.client()
    csrf = csrf_of(first.get(f"/setup/{token}").text)
    data = {"email": "first@example.org", "name": "First", "password": PASSWORD, "csrf_token": csrf}
    assert first.post(f"/setup/{token}", data=data).status_code == 303
    assert first.get(f"/runs/{run_id}/results").status_code == 200
    add_account(fresh_inproc.database_url, OTHER)
    later = fresh_inproc.login(OTHER)
    for path in ("results", "console", "export.csv"):
        assert later.get(f"/runs/{run_id}/{path}").status_code == 404, path
    assert f"/runs/{run_id}/" not in later.get("/dashboard").text
    assert later.post(f"/runs/{run_id}/results/delete", data={"confirm": "yes"}).status_code == 404


# --- 10. Hardening -----------------------------------------------------------------------------------


@pytest.fixture
def https_app(templates: Templates, tmp_path: Path) -> Iterator[InProcess]:
    with running_inprocess(templates, tmp_path, url="https://tov.example.org") as app:
        yield app


def test_behind_https_every_cookie_is_secure_and_hsts_is_sent(https_app: InProcess) -> None:
    browser = https_app.client()
    page = browser.get("/login")
    assert "max-age=" in page.headers["strict-transport-security"]
    assert "secure" in page.headers["set-cookie"].lower()
    r = browser.post(
        "/login", data={"email": "t@example.org", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303
    cookies = r.headers.get_list("set-cookie")
    assert cookies and all("secure" in c.lower() for c in cookies), cookies


def test_plain_http_sends_no_hsts(inproc: InProcess) -> None:
    assert "strict-transport-security" not in inproc.client().get("/").headers


def test_a_413_carries_the_security_headers(inproc: InProcess) -> None:
    r = inproc.client().post("/login", content=b"x" * (200 * 1024), headers={"content-type": "text/plain"})
    assert r.status_code == 413
    for name in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"):
        assert name in r.headers, name


def test_two_workers_share_their_limits_through_redis(templates: Templates, tmp_path: Path) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    channel = f"tovholder-test-{secrets.token_hex(4)}"
    shared = {"redis_url": REDIS_URL, "redis_channel": channel}
    with (
        running_inprocess(templates, tmp_path / "a", **shared) as one,
        running_inprocess(templates, tmp_path / "b", **shared) as two,
    ):
        address = "192.0.2.77"
        statuses = []
        for n in range(30):
            app = (one, two)[n % 2]
            with app.client(address=address) as guesser:
                statuses.append(guesser.get(f"/j/HH{n:04d}").status_code)
        # Each worker alone saw 15 guesses, under the limit; together they are over it.
        assert 429 in statuses


def test_a_session_can_fill_to_its_cap_within_a_minute_when_the_hall_raises_both_settings() -> None:
    """An all-hands of 2,000 behind one address (TOVHOLDER_JOINS_PER_MINUTE and
    TOVHOLDER_MAX_PARTICIPANTS at 2500) is not held back by the per-session rate; by default a
    session still stops a flood long before an hour's worth."""
    from app.ratelimits import Limits

    hall = Limits(joins_per_minute=2500, max_participants=2500)
    for _ in range(2000):
        assert not hall.blocked("join-session", "ABCDEF")
        assert not hall.blocked("join-address", "10.0.0.1")
        hall.hit("join-session", "ABCDEF")
        hall.hit("join-address", "10.0.0.1")
    room = Limits()
    for _ in range(500):
        room.hit("join-session", "ABCDEF")
    assert room.blocked("join-session", "ABCDEF")
    for _ in range(60):
        room.hit("join-address", "10.0.0.2")
    assert room.blocked("join-address", "10.0.0.2")
