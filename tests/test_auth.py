"""Accounts over real HTTP and sockets: the first-start setup link, login and logout, and that one
tovholder never reaches another's runs."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from tests.harness import PASSWORD, Server, csrf_of, free_port, login, server_env, start_run

OTHER_EMAIL = "other@example.org"
SETUP_URL = re.compile(r"(http://\S+/setup/([A-Za-z0-9_-]+))")


def accounts(server: Server) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(server.data_dir / "tovholder.db")) as conn:
        return conn.execute("SELECT email, name FROM facilitator ORDER BY id").fetchall()


def run_row(server: Server, run_id: int) -> tuple[Any, ...]:
    with closing(sqlite3.connect(server.data_dir / "tovholder.db")) as conn:
        row = conn.execute("SELECT status, step_index, version FROM run WHERE id = ?", (run_id,)).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A first start: a real server on an empty data dir, no account created."""
    port = free_port()
    server = Server(env=server_env(tmp_path, port), port=port, data_dir=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def setup_links(server: Server) -> list[tuple[str, str]]:
    return SETUP_URL.findall(server.log())


# --- first start ----------------------------------------------------------------------------------


def test_first_start_prints_a_setup_link_that_creates_the_first_account_once(fresh_server: Server) -> None:
    [(url, token)] = setup_links(fresh_server)
    assert url == f"{fresh_server.url}/setup/{token}"
    browser = httpx.Client(base_url=fresh_server.url, timeout=30)

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
    assert accounts(fresh_server) == [("first@example.org", "Tove Holder")]

    # The link is used up.
    again = httpx.get(f"{url}")
    assert again.status_code == 404
    assert "This setup link is no longer valid." in again.text
    other = httpx.Client(base_url=fresh_server.url, timeout=30)
    csrf = csrf_of(other.get("/login").text)
    replay = other.post(
        f"/setup/{token}",
        data={"email": "second@example.org", "password": PASSWORD, "csrf_token": csrf},
    )
    assert replay.status_code == 422
    assert "This setup link is no longer valid." in replay.text
    assert "tov_auth" not in other.cookies
    assert accounts(fresh_server) == [("first@example.org", "Tove Holder")]
    assert "Traceback" not in fresh_server.log()


def test_setup_with_a_short_password_keeps_what_was_typed_and_the_link_still_works(
    fresh_server: Server,
) -> None:
    [(_, token)] = setup_links(fresh_server)
    browser = httpx.Client(base_url=fresh_server.url, timeout=30)
    csrf = csrf_of(browser.get(f"/setup/{token}").text)
    refused = browser.post(
        f"/setup/{token}",
        data={"email": "first@example.org", "name": "Tove Holder", "password": "short", "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert "A password has at least 10 characters." in refused.text
    assert 'value="first@example.org"' in refused.text and 'value="Tove Holder"' in refused.text
    assert "tov_auth" not in browser.cookies
    assert accounts(fresh_server) == []

    created = browser.post(
        f"/setup/{token}", data={"email": "first@example.org", "password": PASSWORD, "csrf_token": csrf}
    )
    assert created.status_code == 303
    assert accounts(fresh_server) == [("first@example.org", "first")]
    assert "Traceback" not in fresh_server.log()


def test_setup_without_a_csrf_token_is_403_and_creates_nothing(fresh_server: Server) -> None:
    [(_, token)] = setup_links(fresh_server)
    browser = httpx.Client(base_url=fresh_server.url, timeout=30)
    browser.get(f"/setup/{token}")
    r = browser.post(f"/setup/{token}", data={"email": "first@example.org", "password": PASSWORD})
    assert r.status_code == 403
    assert accounts(fresh_server) == []


def test_a_made_up_setup_token_is_404(fresh_server: Server) -> None:
    r = httpx.get(f"{fresh_server.url}/setup/not-the-token-at-all")
    assert r.status_code == 404
    assert "This setup link is no longer valid." in r.text


def test_a_server_with_an_account_prints_no_setup_link(sqlite_server: Server) -> None:
    assert setup_links(sqlite_server) == []


# --- login and logout ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "password"),
    [("t@example.org", "wrong-password-123"), ("nobody@example.org", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_login_with_wrong_credentials_is_401_with_a_message_and_no_cookie(
    shared_sqlite_server: Server, email: str, password: str
) -> None:
    browser = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post("/login", data={"email": email, "password": password, "csrf_token": csrf})
    assert r.status_code == 401
    # The same message for both, so the form does not tell which emails have accounts.
    assert "That email and password do not match an account." in r.text
    assert f'value="{email}"' in r.text
    assert "tov_auth" not in browser.cookies
    assert "tov_auth" not in r.headers.get("set-cookie", "")


def test_login_takes_the_email_in_any_case(shared_sqlite_server: Server) -> None:
    browser = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post("/login", data={"email": "  T@Example.ORG ", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 303
    assert "tov_auth" in browser.cookies


def test_login_is_refused_after_ten_wrong_passwords_even_with_the_right_one(sqlite_server: Server) -> None:
    browser = httpx.Client(base_url=sqlite_server.url, timeout=30)
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
def test_login_never_redirects_off_site(shared_sqlite_server: Server, target: str) -> None:
    browser = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post(
        "/login", data={"email": "t@example.org", "password": PASSWORD, "next": target, "csrf_token": csrf}
    )
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert httpx.URL(shared_sqlite_server.url).join(location).host == "127.0.0.1"


def test_login_goes_back_to_the_page_that_asked_for_it(shared_sqlite_server: Server) -> None:
    browser = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
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


def test_logout_ends_the_login(shared_sqlite_server: Server) -> None:
    browser = login(shared_sqlite_server.url)
    assert browser.get("/dashboard").status_code == 200
    r = browser.post("/logout")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert "tov_auth" not in browser.cookies
    after = browser.get("/dashboard")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


def test_logout_without_a_csrf_token_is_403_and_keeps_the_login(shared_sqlite_server: Server) -> None:
    browser = login(shared_sqlite_server.url)
    del browser.headers["X-CSRF-Token"]
    assert browser.post("/logout").status_code == 403
    assert browser.get("/dashboard").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/runs/1/console", "/runs/1/projector", "/runs/1/results"])
def test_pages_of_a_tovholder_without_login_redirect_to_login(
    shared_sqlite_server: Server, path: str
) -> None:
    r = httpx.get(f"{shared_sqlite_server.url}{path}")
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={path}"


def test_a_control_without_login_is_401_and_htmx_is_sent_to_the_login(shared_sqlite_server: Server) -> None:
    owner = login(shared_sqlite_server.url)
    run_id, _ = start_run(owner)
    before = run_row(shared_sqlite_server, run_id)
    browser = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
    csrf = csrf_of(browser.get("/login").text)
    r = browser.post(f"/runs/{run_id}/next", data={"csrf_token": csrf}, headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert "Please log in again." in r.text
    assert r.headers["hx-redirect"].startswith("/login")
    assert run_row(shared_sqlite_server, run_id) == before


def test_a_forged_login_cookie_is_not_a_login(shared_sqlite_server: Server) -> None:
    browser = httpx.Client(
        base_url=shared_sqlite_server.url, timeout=30, cookies={"tov_auth": "eyJmIjoxfQ.forged.sig"}
    )
    r = browser.get("/dashboard")
    assert r.status_code == 303


# --- one tovholder, another's runs ---------------------------------------------------------------------


@pytest.fixture
def two_tovholders(shared_sqlite_server: Server) -> tuple[httpx.Client, httpx.Client]:
    if not any(email == OTHER_EMAIL for email, _ in accounts(shared_sqlite_server)):
        made = shared_sqlite_server.cli("user", "add", OTHER_EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    return login(shared_sqlite_server.url), login(shared_sqlite_server.url, email=OTHER_EMAIL)


@pytest.mark.parametrize("page", ["console", "projector", "results"])
def test_another_tovholders_run_is_404(
    shared_sqlite_server: Server, two_tovholders: tuple[httpx.Client, httpx.Client], page: str
) -> None:
    owner, other = two_tovholders
    run_id, _ = start_run(owner)
    assert owner.get(f"/runs/{run_id}/{page}").status_code == 200
    r = other.get(f"/runs/{run_id}/{page}")
    assert r.status_code == 404
    assert "There is no such session." in r.text


@pytest.mark.parametrize("action", ["next", "reveal", "timer", "close"])
def test_another_tovholders_run_cannot_be_controlled(
    shared_sqlite_server: Server, two_tovholders: tuple[httpx.Client, httpx.Client], action: str
) -> None:
    owner, other = two_tovholders
    run_id, _ = start_run(owner)
    before = run_row(shared_sqlite_server, run_id)
    r = other.post(f"/runs/{run_id}/{action}", data={"seconds": "60"})
    assert r.status_code == 404
    assert run_row(shared_sqlite_server, run_id) == before


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
    shared_sqlite_server: Server, two_tovholders: tuple[httpx.Client, httpx.Client], role: str
) -> None:
    owner, other = two_tovholders
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
    shared_sqlite_server: Server, two_tovholders: tuple[httpx.Client, httpx.Client]
) -> None:
    owner, _ = two_tovholders
    _, code = start_run(owner)
    _, other_code = start_run(owner)
    phone = httpx.Client(base_url=shared_sqlite_server.url, timeout=30)
    csrf = csrf_of(phone.get(f"/j/{other_code}").text)
    assert phone.post(f"/j/{other_code}", data={"csrf_token": csrf}).status_code == 303

    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, "phone", code)
    with pytest.raises(socketio.exceptions.ConnectionError):  # a participant, but of another run
        await connect(shared_sqlite_server, "phone", code, dict(phone.cookies.items()))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(shared_sqlite_server, "stranger", code, dict(owner.cookies.items()))

    allowed = await connect(shared_sqlite_server, "phone", other_code, dict(phone.cookies.items()))
    await allowed.disconnect()
