"""Answers over a real socket: whatever a client sends, the `answer` event acknowledges it, with
`{"ok": false, ...}` and a message for anything malformed, and stores nothing for it. One server
for the module; each test has its own phone."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml

from tests.harness import Server
from tests.live import Phone, Tovholder
from tests.small_flows import small_flow, small_step

FLOW = small_flow(
    "socket-check",
    small_step("rate", "scale", settings={"low": {"en": "Low"}, "high": {"en": "High"}}),
    title={"en": "Socket check"},
)


@pytest.fixture(scope="module")
async def room(shared_sqlite_server: Server) -> AsyncIterator[tuple[str, str]]:
    """A session of the one-step flow, on its scale step: the server's address and the code."""
    tov = Tovholder(shared_sqlite_server.url)
    await tov.login()
    upload = yaml.safe_dump(FLOW).encode()
    r = await tov.http.post(
        "/flows/import", files={"file": ("socket-check.yaml", upload, "application/x-yaml")}
    )
    assert r.status_code == 303, r.text
    run_id, code = await tov.start("socket-check")
    assert (await tov.control(run_id, "next")).status_code == 200
    yield shared_sqlite_server.url, code
    await tov.http.aclose()


@pytest.fixture
async def phone(room: tuple[str, str]) -> AsyncIterator[Phone]:
    url, code = room
    phone = Phone(url, code)
    await phone.join()
    yield phone
    await phone.close()


def key() -> str:
    return secrets.token_urlsafe(12)


async def send(phone: Phone, payload: Any) -> dict[str, Any]:
    assert phone.screen is not None
    ack: dict[str, Any] = await phone.screen.sio.call("answer", payload, timeout=20)
    return ack


MALFORMED: dict[str, Any] = {
    "not-a-dict": "rate=3",
    "a-list": [{"step": "rate"}],
    "nothing": None,
    "no-fields": {"step": "rate", "key": "k" * 12},
    "fields-not-a-dict": {"step": "rate", "key": "k" * 12, "fields": "value=3"},
    "no-step": {"key": "k" * 12, "fields": {"value": 3}},
    "unknown-step": {"step": "no-such-step", "key": "k" * 12, "fields": {"value": 3}},
    "step-a-list": {"step": ["rate"], "key": "k" * 12, "fields": {"value": 3}},
    "no-key": {"step": "rate", "fields": {"value": 3}},
    "key-too-short": {"step": "rate", "key": "k", "fields": {"value": 3}},
    "lone-surrogate-value": {"step": "rate", "key": "k" * 12, "fields": {"value": "\ud800"}},
    "lone-surrogate-name": {"step": "rate", "key": "k" * 12, "fields": {"\udfff": "3"}},
    "lone-surrogate-step": {"step": "rate\ud800", "key": "k" * 12, "fields": {"value": 3}},
    "lone-surrogate-key": {"step": "rate", "key": "k" * 11 + "\ud800", "fields": {"value": 3}},
    "400-digit-integer": {"step": "rate", "key": "k" * 12, "fields": {"value": 10**400}},
    "negative-400-digits": {"step": "rate", "key": "k" * 12, "fields": {"value": -(10**400)}},
    "a-float": {"step": "rate", "key": "k" * 12, "fields": {"value": 3.5}},
    "a-bool": {"step": "rate", "key": "k" * 12, "fields": {"value": True}},
    "a-null": {"step": "rate", "key": "k" * 12, "fields": {"value": None}},
    "a-list-value": {"step": "rate", "key": "k" * 12, "fields": {"value": [3]}},
    "a-dict-value": {"step": "rate", "key": "k" * 12, "fields": {"value": {"v": 3}}},
    "too-many-fields": {"step": "rate", "key": "k" * 12, "fields": {f"f{i}": "3" for i in range(121)}},
    "out-of-range": {"step": "rate", "key": "k" * 12, "fields": {"value": 9}},
}


@pytest.mark.parametrize("payload", list(MALFORMED.values()), ids=list(MALFORMED))
async def test_every_malformed_answer_gets_an_error_ack_and_stores_nothing(
    phone: Phone, payload: Any, shared_sqlite_server: Server
) -> None:
    ack = await send(phone, payload)
    assert ack["ok"] is False
    assert ack["status"] in (400, 404, 422), ack
    assert isinstance(ack["error"], str) and ack["error"].strip()
    assert "Something went wrong" not in ack["error"]
    # Nothing was stored for it: this phone's one answer to the step is still free.
    valid = await send(phone, {"step": "rate", "key": key(), "fields": {"value": 4}})
    assert valid == {"ok": True, "created": True, "version": valid["version"]}
    assert "Traceback" not in shared_sqlite_server.log()


async def test_a_whole_number_and_its_text_are_the_same_answer(phone: Phone) -> None:
    """One parse for both paths: the socket's 4 is the form's "4"."""
    sent = key()
    first = await send(phone, {"step": "rate", "key": sent, "fields": {"value": 4}})
    assert first["ok"] and first["created"]
    again = await send(phone, {"step": "rate", "key": sent, "fields": {"value": "4"}})
    assert again["ok"] and not again["created"]
    over_http = await phone.answer_by_http("rate", {"value": "4"})
    assert over_http.status_code == 409  # the step takes one answer, and it is stored


async def test_an_error_ack_speaks_the_phones_language(room: tuple[str, str]) -> None:
    url, code = room
    phone = Phone(url, code)
    phone.http.cookies.set("tov_lang", "nb")
    await phone.join()
    try:
        ack = await send(phone, {"step": "rate", "key": key(), "fields": {"value": 9}})
        assert ack["ok"] is False and ack["status"] == 422
        assert "Please pick" not in ack["error"]  # a Norwegian message, not the English msgid
    finally:
        await phone.close()
