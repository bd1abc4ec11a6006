"""Accounts over HTTP (the app in process) and real sockets: the first-start setup link (once on a
real first start), login and logout, and that one tovholder never reaches another's runs."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.conftest import Uvicorn
from tests.databases import add_account
from tests.harness import PASSWORD, Server, Site, csrf_of, login, start_run
from tests.inprocess import InProcess

OTHER_EMAIL = "other@example.org"
SETUP_URL = re.compile(r"(http://\S+/setup/([A-Za-z0-9_-]+))")


def accounts(site: Site) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(site.data_dir / "tovholder.db")) as conn:
        return conn.execute("SELECT email, name FROM facilitator ORDER BY id").fetchall()


def run_row(site: Site, run_id: int) -> tuple[Any, ...]:
    with closing(sqlite3.connect(site.data_dir / "tovholder.db")) as conn:
        row = conn.execute("SELECT status, step_index, version FROM run WHERE id = ?", (run_id,)).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture
def first_start(uvicorn: Uvicorn, tmp_path: Path) -> Iterator[Server]:
    """A real first start: `tovholder run`, a new process from the entry point, on an empty data
    dir migrates it and prints the link."""
    with uvicorn.running(tmp_path, migrate=True, cold=True) as server:
        yield server


def setup_links(site: InProcess | Server) -> list[tuple[str, str]]:
    return SETUP_URL.findall(site.log())


# --- first start ----------------------------------------------------------------------------------


def test_first_start_prints_a_setup_link_that_creates_the_first_account_once(first_start: Server) -> None:
    [(url, token)] = setup_links(first_start)
    assert url == f"{first_start.url}/setup/{token}"
    browser = first_start.client()

    form = browser.get(f"/setup/{token}")
    assert form.status_code == 200
    assert f'action="/setup/{token}"' in form.text
    created = browser.post(
        f"/setup/{token}",
        data={
            "email": "First@Example.org",
            "name": "Tove Holder",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/dashboard"
    assert "tov_auth" in browser.cookies  # logged in at once
    dashboard = browser.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Tove Holder" in dashboard.text
    assert accounts(first_start) == [("first@example.org", "Tove Holder")]

    # The link is used up.
    again = first_start.client().get(url)
    assert again.status_code == 404
    assert "This setup link is no longer valid." in again.text
    other = first_start.client()
    csrf = csrf_of(other.get("/login").text)
    replay = other.post(
        f"/setup/{token}",
        data={"email": "second@example.org", "password": PASSWORD, "csrf_token": csrf},
    )
    assert replay.status_code == 422
    assert "This setup link is no longer valid." in replay.text
    assert "tov_auth" not in other.cookies
    assert accounts(first_start) == [("first@example.org", "Tove Holder")]
    assert "Traceback" not in first_start.log()


def test_setup_with_a_short_password_keeps_what_was_typed_and_the_link_still_works(
    fresh_inproc: InProcess,
) -> None:
    [(_, token)] = setup_links(fresh_inproc)
    browser = fresh_inproc.client()
    csrf = csrf_of(browser.get(f"/setup/{token}").text)
    refused = browser.post(
        f"/setup/{token}",
        data={"email": "first@example.org", "name": "Tove Holder", "password": "short", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert "A password has at least 10 characters." in refused.text
    assert 'value="first@example.org"' in refused.text and 'value="Tove Holder"' in refused.text
    assert "tov_auth" not in browser.cookies
    assert accounts(fresh_inproc) == []

    created = browser.post(
        f"/setup/{token}", data={"email": "first@example.org", "password": PASSWORD, "csrf_token": csrf}
    )
    assert created.status_code == 303
    assert accounts(fresh_inproc) == [("first@example.org", "first")]
    assert "Traceback" not in fresh_inproc.log()


def test_setup_without_a_csrf_token_is_403_and_creates_nothing(fresh_inproc: InProcess) -> None:
    [(_, token)] = setup_links(fresh_inproc)
    browser = fresh_inproc.client()
    browser.get(f"/setup/{token}")
    r = browser.post(f"/setup/{token}", data={"email": "first@example.org", "password": PASSWORD})
    assert r.status_code == 403
    assert accounts(fresh_inproc) == []


def test_a_made_up_setup_token_is_404(fresh_inproc: InProcess) -> None:
    r = fresh_inproc.client().get("/setup/not-the-token-at-all")
    assert r.status_code == 404
    assert "This setup link is no longer valid." in r.text


def test_a_server_with_an_account_prints_no_setup_link(inproc: InProcess) -> None:
    assert setup_links(inproc) == []


# --- login and logout ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "password"),
    [("t@example.org", "wrong-password-123"), ("nobody@example.org", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_login_with_wrong_credentials_is_401_with_a_message_and_no_cookie(
    shared_inproc: InProcess, email: str, password: str
) -> None:
    browser = shared_inproc.client()
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post("/login", data={"email": email, "password": password, "csrf_token": csrf})
    assert r.status_code == 401
    # The same message for both, so the form does not tell which emails have accounts.
    assert "That email and password do not match an account." in r.text
    assert f'value="{email}"' in r.text
    assert "tov_auth" not in browser.cookies
    assert "tov_auth" not in r.headers.get("set-cookie", "")


def test_login_takes_the_email_in_any_case(shared_inproc: InProcess) -> None:
    browser = shared_inproc.client()
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post("/login", data={"email": "  T@Example.ORG ", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 303
    assert "tov_auth" in browser.cookies


def test_a_tovholder_page_is_served_while_another_connection_holds_the_write_lock(
    inproc: InProcess,
) -> None:
    """The login's check and the session's ownership only read: on SQLite they take no write
    lock, so a Next is not held up behind a burst of answers being stored."""
    browser = inproc.login()
    run_id, _ = start_run(browser)
    locked, answered = threading.Event(), threading.Event()
    released: list[bool] = []

    def hold_the_write_lock() -> None:
        with closing(sqlite3.connect(inproc.data_dir / "tovholder.db", isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            locked.set()
            answered.wait(10)  # a page that waits for the lock gets it only after this
            released.append(True)
            db.execute("ROLLBACK")

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    assert locked.wait(5)
    try:
        page = browser.get(f"/runs/{run_id}/console")
        served_while_locked = not released
    finally:
        answered.set()
        holder.join()
    assert page.status_code == 200
    assert served_while_locked


def test_login_is_refused_after_ten_wrong_passwords_even_with_the_right_one(inproc: InProcess) -> None:
    browser = inproc.client()
    csrf = csrf_of(browser.get("/login").text)
    for _ in range(10):
        r = browser.post(
            "/login", data={"email": "t@example.org", "password": "guess-123456", "csrf_token": csrf}
        )
        assert r.status_code == 401
    r = browser.post("/login", data={"email": "t@example.org", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429
    assert "Too many tries. Wait a minute and try again." in r.text
    assert "tov_auth" not in browser.cookies


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/x"])
def test_login_never_redirects_off_site(shared_inproc: InProcess, target: str) -> None:
    browser = shared_inproc.client()
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post(
        "/login", data={"email": "t@example.org", "password": PASSWORD, "next": target, "csrf_token": csrf}
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert httpx.URL(shared_inproc.url).join(location).host == "127.0.0.1"


def test_login_goes_back_to_the_page_that_asked_for_it(shared_inproc: InProcess) -> None:
    browser = shared_inproc.client()
    asked = browser.get("/dashboard")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/dashboard"
    page = browser.get(asked.headers["location"])
    assert 'name="next" value="/dashboard"' in page.text
    r = browser.post(
        "/login",
        data={
            "email": "t@example.org",
            "password": PASSWORD,
            "next": "/dashboard",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.headers["location"] == "/dashboard"


def test_logout_ends_the_login(shared_inproc: InProcess) -> None:
    browser = shared_inproc.login()
    assert browser.get("/dashboard").status_code == 200
    r = browser.post("/logout")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert "tov_auth" not in browser.cookies
    after = browser.get("/dashboard")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


def test_logout_without_a_csrf_token_is_403_and_keeps_the_login(shared_inproc: InProcess) -> None:
    browser = shared_inproc.login()
    del browser.headers["X-CSRF-Token"]
    assert browser.post("/logout").status_code == 403
    assert browser.get("/dashboard").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/runs/1/console", "/runs/1/projector", "/runs/1/results"])
def test_pages_of_a_tovholder_without_login_redirect_to_login(shared_inproc: InProcess, path: str) -> None:
    r = shared_inproc.client().get(path)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={path}"


def test_a_control_without_login_is_401_and_htmx_is_sent_to_the_login(shared_inproc: InProcess) -> None:
    owner = shared_inproc.login()
    run_id, _ = start_run(owner)
    before = run_row(shared_inproc, run_id)
    browser = shared_inproc.client()
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post(f"/runs/{run_id}/next", data={"csrf_token": csrf}, headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert "Please log in again." in r.text
    assert r.headers["hx-redirect"].startswith("/login")
    assert run_row(shared_inproc, run_id) == before


def test_a_forged_login_cookie_is_not_a_login(shared_inproc: InProcess) -> None:
    browser = shared_inproc.client(cookies={"tov_auth": "eyJmIjoxfQ.forged.sig"})
    r = browser.get("/dashboard")
    assert r.status_code == 303


# --- one tovholder, another's runs ---------------------------------------------------------------------


def _two_tovholders(site: InProcess | Server) -> tuple[httpx.Client, httpx.Client]:
    """The test account and another one, each logged in (the other is made once per site)."""
    if not any(email == OTHER_EMAIL for email, _ in accounts(site)):
        add_account(site.database_url, OTHER_EMAIL)
    return login(site), login(site, email=OTHER_EMAIL)


@pytest.fixture
def two_tovholders(shared_inproc: InProcess) -> tuple[httpx.Client, httpx.Client]:
    return _two_tovholders(shared_inproc)


@pytest.fixture
def two_tovholders_live(shared_sqlite_server: Server) -> tuple[httpx.Client, httpx.Client]:
    """The same on the module's real server, for the socket tests."""
    return _two_tovholders(shared_sqlite_server)


@pytest.mark.parametrize("page", ["console", "projector", "results"])
def test_another_tovholders_run_is_404(
    shared_inproc: InProcess, two_tovholders: tuple[httpx.Client, httpx.Client], page: str
) -> None:
    owner, other = two_tovholders
    run_id, _ = start_run(owner)
    assert owner.get(f"/runs/{run_id}/{page}").status_code == 200
    r = other.get(f"/runs/{run_id}/{page}")
    assert r.status_code == 404
    assert "There is no such session." in r.text


def _controls() -> list[str]:
    """Every control's address (the console's POST routes), its other parameters filled in."""
    from fastapi.routing import APIRoute

    from app.routes import console

    paths = [r.path for r in console.router.routes if isinstance(r, APIRoute) and "POST" in r.methods]
    assert len(paths) >= 11
    filled = {"{step_id}": "s1", "{action}": "split", "{answer_id}": "1"}
    for name, value in filled.items():
        paths = [p.replace(name, value) for p in paths]
    return paths


@pytest.mark.parametrize("control", _controls())
def test_another_tovholders_run_cannot_be_controlled(
    shared_inproc: InProcess, two_tovholders: tuple[httpx.Client, httpx.Client], control: str
) -> None:
    """Every control checks the login and the owner (in the change's own hop): another
    tovholder's is 404 and changes nothing; a session that does not exist is 404 as well."""
    owner, other = two_tovholders
    run_id, _ = start_run(owner)
    before = run_row(shared_inproc, run_id)
    r = other.post(control.replace("{run_id}", str(run_id)), data={"seconds": "60", "words": "x"})
    assert r.status_code == 404, r.text
    assert "There is no such session." in r.text
    assert run_row(shared_inproc, run_id) == before
    assert other.post(control.replace("{run_id}", "999999"), data={"seconds": "60"}).status_code == 404


@pytest.mark.parametrize("control", ["/runs/{run_id}/next", "/runs/{run_id}/word-filter"])
def test_a_login_that_ended_cannot_control_its_own_run(shared_inproc: InProcess, control: str) -> None:
    browser = login(shared_inproc)
    run_id, _ = start_run(browser)
    before = run_row(shared_inproc, run_id)
    cookies = dict(browser.cookies)
    assert browser.post("/logout").status_code in (200, 303)
    for name, value in cookies.items():  # the browser keeps its signed cookie: the login ended
        browser.cookies.set(name, value)
    r = browser.post(control.replace("{run_id}", str(run_id)), headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")
    assert run_row(shared_inproc, run_id) == before


def test_the_dashboard_lists_only_ones_own_runs(two_tovholders: tuple[httpx.Client, httpx.Client]) -> None:
    owner, other = two_tovholders
    _, code = start_run(owner)
    assert code in owner.get("/dashboard").text
    assert code not in other.get("/dashboard").text


# --- sockets ---------------------------------------------------------------------------------------------


async def connect(
    server: Server, role: str, code: str, cookies: dict[str, str] | None = None
) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    await client.connect(
        server.url,
        headers={"Cookie": cookie} if cookie else {},
        transports=["websocket"],
        auth={"role": role, "run": code},
        wait_timeout=10,
    )
    return client


@pytest.mark.parametrize("role", ["projector", "console"])
async def test_screen_sockets_are_refused_without_the_owners_login(
    shared_sqlite_server: Server, two_tovholders_live: tuple[httpx.Client, httpx.Client], role: str
) -> None:
    owner, other = two_tovholders_live
    _, code = start_run(owner)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, role, code)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, role, code, {"tov_auth": "forged"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, role, code, dict(other.cookies.items()))

    # The owner's own login is let in: the refusals above are about who asks.
    allowed = await connect(shared_sqlite_server, role, code, dict(owner.cookies.items()))
    synced = await allowed.call("sync", {"version": 0}, timeout=10)
    assert synced["region"] == ("stage" if role == "projector" else "console")
    await allowed.disconnect()


async def test_phone_socket_is_refused_without_a_participant_of_that_run(
    shared_sqlite_server: Server, two_tovholders_live: tuple[httpx.Client, httpx.Client]
) -> None:
    owner, _ = two_tovholders_live
    _, code = start_run(owner)
    _, other_code = start_run(owner)
    phone = shared_sqlite_server.client()
    csrf = csrf_of(phone.get(f"/j/{other_code}").text)
    assert phone.post(f"/j/{other_code}", data={"csrf_token": csrf}).status_code == 200

    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, "phone", code)
    with pytest.raises(socketio.exceptions.ConnectionError):  # a participant, but of another run
        await connect(shared_sqlite_server, "phone", code, dict(phone.cookies.items()))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, "stranger", code, dict(owner.cookies.items()))

    allowed = await connect(shared_sqlite_server, "phone", other_code, dict(phone.cookies.items()))
    await allowed.disconnect()


def test_the_login_cookie_is_checked_again_for_its_age_when_its_signature_is_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CookieSigner remembers cookies whose signature held (a request checks one twice); an old
    cookie is still refused, a changed one never matches, and the CSRF token is the login's."""
    import time

    from app import auth

    signer = auth.CookieSigner("a-secret-of-the-test-" + "x" * 20)
    cookie = signer.dumps("the-login")
    assert signer.loads(cookie) == "the-login"
    assert signer.loads(cookie) == "the-login"  # remembered
    csrf = signer.csrf_for(cookie)
    assert csrf and csrf == auth.CookieSigner("a-secret-of-the-test-" + "x" * 20).csrf_for(cookie)
    assert signer.csrf_for(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert auth.CookieSigner("another-secret-" + "y" * 20).loads(cookie) is None
    later = time.time() + auth.LOGIN_MAX_AGE + 5
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert signer.loads(cookie) is None
    assert signer.csrf_for(cookie) is None
