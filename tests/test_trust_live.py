"""The refusals of issue 10 that need a real server: a socket from another origin, socket events
that cannot be answered with a screen, a malformed socket handshake, and X-Forwarded-For from a
client that is no trusted proxy. One server for the module."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import socketio

from tests.harness import Server
from tests.live import Phone, Tovholder


async def connect(url: str, cookies: dict[str, str], auth: dict[str, Any], origin: str | None) -> Any:
    sio = socketio.AsyncClient(reconnection=False)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if origin is not None:
        headers["Origin"] = origin
    await sio.connect(url, headers=headers, transports=["websocket"], auth=auth, wait_timeout=15)
    return sio


@pytest.mark.parametrize("origin", ["http://127.0.0.1:9", "https://evil.example", "null"])
async def test_a_socket_from_another_origin_is_refused(shared_sqlite_server: Server, origin: str) -> None:
    """The tovholder's cookies go with a websocket a page elsewhere opens: it gets nothing."""
    url = shared_sqlite_server.url
    tov = Tovholder(url)
    await tov.login()
    try:
        _, code = await tov.start()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(url, tov.cookies, {"role": "console", "run": code}, origin)
        # From our own pages (and from a client that is no browser) it connects.
        for own in (url, None):
            sio = await connect(url, tov.cookies, {"role": "console", "run": code}, own)
            synced = await sio.call("sync", {"version": 0}, timeout=10)
            assert synced["region"] == "console"
            await sio.disconnect()
    finally:
        await tov.http.aclose()


async def test_sync_for_a_deleted_session_gets_an_error_ack(shared_sqlite_server: Server) -> None:
    url = shared_sqlite_server.url
    tov = Tovholder(url)
    await tov.login()
    run_id, code = await tov.start()
    phone = Phone(url, code)
    await phone.join()
    try:
        assert phone.screen is not None
        deleted = await tov.http.post(f"/runs/{run_id}/results/delete", data={"confirm": "yes"})
        assert deleted.status_code in (200, 303), deleted.text
        ack = await phone.screen.sio.call("sync", {"version": 0}, timeout=10)
        assert ack["ok"] is False and ack["status"] in (403, 404), ack
        assert ack["error"].strip()
        ack = await phone.screen.sio.call("sync", "\ud800", timeout=10)
        assert ack["ok"] is False
        assert "Traceback" not in shared_sqlite_server.log()
    finally:
        await phone.close()
        await tov.http.aclose()


@pytest.mark.parametrize("auth", [{"role": "phone", "run": "\ud800", "token": "\udfff"}, {"role": 10**400}])
async def test_a_malformed_handshake_is_refused_and_logged_once(
    shared_sqlite_server: Server, auth: Any
) -> None:
    url = shared_sqlite_server.url
    before = shared_sqlite_server.log().count("malformed")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(url, {}, auth, None)
    assert shared_sqlite_server.log().count("malformed") <= before + 1


async def test_a_malformed_answer_is_logged_once(shared_sqlite_server: Server) -> None:
    url = shared_sqlite_server.url
    tov = Tovholder(url)
    await tov.login()
    _, code = await tov.start()
    phone = Phone(url, code)
    await phone.join()
    try:
        assert phone.screen is not None
        before = shared_sqlite_server.log().count("refused as malformed")
        payload = {"step": "x", "key": "k" * 12, "fields": {"value": "\ud800"}}
        ack = await phone.screen.sio.call("answer", payload, timeout=10)
        assert ack["ok"] is False
        assert shared_sqlite_server.log().count("refused as malformed") == before + 1
    finally:
        await phone.close()
        await tov.http.aclose()


def test_x_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(shared_sqlite_server: Server) -> None:
    """Rotating X-Forwarded-For from 127.0.0.1 does not make each guess come from elsewhere."""
    statuses = []
    with httpx.Client(base_url=shared_sqlite_server.url, timeout=30) as guesser:
        for n in range(30):
            forwarded = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            guess = f"/j/BB{secrets.token_hex(2).upper()}"
            statuses.append(guesser.get(guess, headers=forwarded).status_code)
    assert 429 in statuses
