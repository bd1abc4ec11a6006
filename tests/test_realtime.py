"""Realtime behaviour over real sockets: reconnects, restarts, two tabs (over HTTP, in process),
and two servers sharing one session through PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.realtime import Prepared, Push, Realtime, room
from tests.conftest import Uvicorn, house_of
from tests.databases import Templates
from tests.harness import REDIS_URL, Server, csrf_of, require_service, start_run
from tests.inprocess import InProcess
from tests.live import Phone, Screen, Tovholder, version_of, wait_for


async def test_phone_that_reconnects_gets_the_current_screen_at_once(shared_sqlite_server: Server) -> None:
    sqlite_server = shared_sqlite_server
    tov = Tovholder(sqlite_server.url)
    await tov.login()
    run_id, code = await tov.start()
    phone = Phone(sqlite_server.url, code)
    await phone.join()
    assert phone.screen is not None
    assert "You are in" in phone.screen.html
    stale = phone.screen.version
    await phone.screen.close()  # the phone sleeps

    r = await tov.control(run_id, "next")
    r = await tov.control(run_id, "next", version=version_of(r.text))
    current = version_of(r.text)

    awake = Screen(sqlite_server.url, "phone", code, dict(phone.http.cookies.items()))
    awake.version = stale
    await awake.connect()  # connect() sends sync with version 0: the screen comes in the ack
    assert awake.version == current
    assert 'name="step" value="name-activity"' in awake.html
    same = await awake.sio.call("sync", {"version": current}, timeout=10)
    assert same is None  # nothing changed since: nothing is sent
    await awake.close()
    await phone.http.aclose()
    await tov.http.aclose()


async def test_a_restarted_server_loses_nothing(sqlite_server: Server) -> None:
    tov = Tovholder(sqlite_server.url)
    await tov.login()
    run_id, code = await tov.start()
    phone = Phone(sqlite_server.url, code)
    await phone.join()
    r = await tov.control(run_id, "next")
    r = await tov.control(run_id, "next", version=version_of(r.text))
    ack = await phone.answer_by_socket("name-activity", {"word": "Snøstorm"})
    assert ack["ok"] and ack["created"]
    r = await tov.control(run_id, "timer", version=version_of(r.text), seconds=300)
    assert r.status_code == 200
    assert 'data-ends-at="' in r.text
    ends_at = r.text.split('data-ends-at="', 1)[1].split('"', 1)[0]
    await phone.close()

    sqlite_server.stop()
    sqlite_server.start()

    projector = Screen(sqlite_server.url, "projector", code, tov.cookies)
    await projector.connect()
    assert "Snøstorm" in projector.html
    assert f'data-ends-at="{ends_at}"' in projector.html  # the timer is an absolute end time
    again = Screen(sqlite_server.url, "phone", code, dict(phone.http.cookies.items()))
    await again.connect()
    assert "Sent" in again.html and "Snøstorm" in again.html
    retry = await again.sio.call(
        "answer", {"step": "name-activity", "key": ack["key"], "fields": {"word": "Snøstorm"}}, timeout=10
    )
    assert retry["ok"] and not retry["created"]  # a resend after the restart is not stored twice
    await again.close()
    await projector.close()
    await tov.http.aclose()


async def test_two_tabs_cannot_skip_two_steps(inproc: InProcess) -> None:
    tov = Tovholder(inproc.url, http=inproc.async_client())
    await tov.login()
    run_id, _ = await tov.start()
    r = await tov.control(run_id, "next")
    version = version_of(r.text)
    first, second = await asyncio.gather(
        tov.control(run_id, "next", version=version), tov.control(run_id, "next", version=version)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    console = await tov.http.get(f"/runs/{run_id}/console")
    assert "Now: step 2 of" in console.text
    await tov.http.aclose()


async def test_a_step_changes_phone_screens_are_drawn_where_it_was_stored_and_sent_as_drawn(
    inproc: InProcess,
) -> None:
    """One server (no Redis): a step change's phone screens are read and drawn once, in the
    worker thread that stored it, right after its commit; its push sends those. A push that
    finds a language the prepared screens lack draws them all afresh."""
    house = house_of(inproc.asgi)
    realtime = house.realtime
    drawn: list[tuple[str, frozenset[str]]] = []  # (who asked: the committing move, or the push)
    real = house.phone_pushes

    def counting(run_id: int, kinds: frozenset[str], locales: frozenset[str], run: Any = None) -> list[Push]:
        asked = {f.name for f in traceback.extract_stack()}
        drawn.append(("move" if "move" in asked else "push", locales))
        assert (run is not None) == (asked >= {"move"})  # the move hands over its row, as committed
        return real(run_id, kinds, locales, run)

    house.phone_pushes = realtime.preparer = counting
    sent: list[tuple[Any, dict[str, Any]]] = []

    async def recorded(event: str, data: dict[str, Any], room: Any = None, **kw: Any) -> None:
        sent.append((room, data))

    realtime.sio.emit = recorded  # type: ignore[method-assign]
    tov = Tovholder(inproc.url, http=inproc.async_client())
    await tov.login()
    run_id, _ = await tov.start(locale="nb")
    await realtime.sio.manager.enter_room("a-phone", "/", room(run_id, "phones", "nb"), eio_sid="e1")
    r = await tov.control(run_id, "next")
    assert r.status_code == 200
    phones = [(to, d) for to, d in sent if d["region"] == "phone"]
    assert [to for to, _ in phones] == [room(run_id, "phones", "nb")]
    assert phones[0][1]["version"] == version_of(r.text) and "Steg 1 av" in phones[0][1]["html"]
    assert drawn == [("move", {"nb"})]  # once, in the thread that stored the move

    # The push finds a language the prepared screens lack (a phone came in between): afresh.
    prepared = Prepared(frozenset({"nb"}), [Push("nowhere", "phone", "<p>old</p>", 1)])
    both = frozenset({"nb", "en"})
    pushes = [p async for p in house.render_pushes(run_id, frozenset({"step"}), both, prepared)]
    assert sorted(p.room for p in pushes if p.region == "phone") == [
        room(run_id, "phones", "en"),
        room(run_id, "phones", "nb"),
    ]
    assert drawn[-1] == ("push", {"nb", "en"})
    nb = frozenset({"nb"})
    pushes = [p async for p in house.render_pushes(run_id, frozenset({"step"}), nb, prepared)]
    assert [p.html for p in pushes if p.region == "phone"] == ["<p>old</p>"]  # as prepared
    await tov.http.aclose()


async def test_a_later_change_drops_the_prepared_phone_screens() -> None:
    """A change after the step change (a reveal) may change what the phones see: the flush
    then reads and draws afresh rather than send what the step change prepared. Answers do not
    (a step's fresh screens show none)."""
    got: list[Prepared | None] = []

    async def renderer(
        run_id: int, kinds: frozenset[str], locales: frozenset[str], prepared: Prepared | None
    ) -> AsyncIterator[Push]:
        got.append(prepared)
        for push in ():
            yield push

    realtime = Realtime()
    realtime.start(renderer)
    prepared = Prepared(frozenset({"nb"}), [])
    realtime._enqueue(1, "step", prepared)
    realtime._enqueue(1, "tally")
    await realtime.idle()
    realtime._enqueue(2, "step", prepared)
    realtime._enqueue(2, "reveal")
    await realtime.idle()
    assert got == [prepared, None]


@pytest.mark.redis
async def test_two_servers_send_a_runs_pushes_one_at_a_time() -> None:
    """With Redis, a server reads and sends a run's push while no other server does: a tally
    read before the other server's answers were stored is sent before the one read after them,
    never last (the projector keeps the push that came last; both carry the same version)."""
    require_service("Redis", "127.0.0.1", 6379)
    channel = f"tovholder-test-{secrets.token_hex(4)}"
    stored = [0]  # answers stored so far, as a push reads them
    sent: list[tuple[str, str]] = []

    def server(name: str, drawing: float) -> Realtime:
        async def renderer(
            run_id: int, kinds: frozenset[str], locales: frozenset[str], prepared: Prepared | None
        ) -> AsyncIterator[Push]:
            seen = stored[0]
            await asyncio.sleep(drawing)
            yield Push(room(run_id, "projector"), "stage", f"{seen} answers", 3)

        async def recorded(event: str, data: dict[str, Any], room: Any = None, **kw: Any) -> None:
            sent.append((name, data["html"]))

        realtime = Realtime(REDIS_URL, coalesce_seconds=0, channel=channel)
        realtime.start(renderer)
        realtime.sio.emit = recorded  # type: ignore[method-assign]
        return realtime

    slow, quick = server("slow", drawing=0.3), server("quick", drawing=0.0)
    slow.notify(1, "tally")  # the slow server reads first (no answers yet) and draws for 0.3 s
    await wait_for(lambda: 1 in slow._flushing, "the slow server's push to start")
    await asyncio.sleep(0.05)
    stored[0] = 1  # an answer stored on the other server, which pushes at once
    quick.notify(1, "tally")
    await asyncio.gather(slow.idle(), quick.idle())
    assert sent == [("slow", "0 answers"), ("quick", "1 answers")]
    for realtime in (slow, quick):
        await realtime.redis.aclose()


@pytest.fixture(scope="module")
def two_servers(
    uvicorn: Uvicorn, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two server processes on one PostgreSQL database and one Redis: one session, two hosts."""
    tmp_path = tmp_path_factory.mktemp("two-servers")
    require_service("Redis", "127.0.0.1", 6379)
    channel = f"tovholder-test-{secrets.token_hex(4)}"  # the two hosts share it; nobody else does
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(templates.postgres_copy())
        a, b = (
            stack.enter_context(uvicorn.running(tmp_path / name, url, REDIS_URL, channel)) for name in "ab"
        )
        yield a, b


@pytest.mark.redis
@pytest.mark.postgres
async def test_two_servers_share_one_session_through_redis(two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    tov = Tovholder(a.url)
    await tov.login()
    run_id, code = await tov.start()
    projector = Screen(a.url, "projector", code, tov.cookies)
    await projector.connect()
    phones = [Phone(b.url, code) for _ in range(3)]  # three phones reach the other host
    phones += [Phone(a.url, code) for _ in range(2)]
    await asyncio.gather(*(p.join() for p in phones))
    await wait_for(
        lambda: "<strong>5</strong>" in projector.html, "host A's projector to count host B's phones"
    )

    r = await tov.control(run_id, "next")
    r = await tov.control(run_id, "next", version=version_of(r.text))
    version = version_of(r.text)
    await wait_for(
        lambda: all(p.screen and p.screen.version >= version for p in phones),
        "phones on both hosts to follow a step made on host A",
    )
    for i, p in enumerate(phones):
        ack = await p.answer_by_socket("name-activity", {"word": f"ord{i}"})
        assert ack["ok"]
    await wait_for(
        lambda: "5 answers · 5 of 5 people" in projector.html, "host A's tally of answers on both hosts"
    )
    for p in phones:
        await p.close()
    await projector.close()
    await tov.http.aclose()


@pytest.mark.redis
@pytest.mark.postgres
async def test_each_group_sees_only_its_own_group_on_both_servers(two_servers: tuple[Server, Server]) -> None:
    """The groups step goes to each group's phones, wherever they are connected, and holds that
    group only; a phone that joins after the split is told so."""
    a, b = two_servers
    tov = Tovholder(a.url)
    await tov.login()
    run_id, code = await tov.start("core-task-2")
    phones = [Phone((a if i % 2 else b).url, code, name=f"Name{i}") for i in range(10)]
    await asyncio.gather(*(p.join() for p in phones))
    version = version_of((await tov.control(run_id, "next")).text)
    for _ in range(2):  # welcome, unit-contribution, angles-groups
        version = version_of((await tov.control(run_id, "next", version=version)).text)
    await wait_for(
        lambda: all(p.screen and p.screen.version >= version for p in phones), "every phone to get its group"
    )
    seen = []
    for i, p in enumerate(phones):
        assert p.screen is not None
        groups = re.findall(r'class="groups-phone__group" data-members="([^"]*)"', p.screen.html)
        assert len(groups) == 1, p.screen.html
        assert f"Name{i}" in p.screen.html
        seen.append(groups[0])
    placed = [set(g.split()) for g in set(seen)]
    assert len(placed) == 3 and sum(len(g) for g in placed) == 10 and len(set().union(*placed)) == 10
    late = Phone(b.url, code, name="Late")
    await late.join()
    assert late.screen is not None
    assert "You joined after the groups were made" in late.screen.html
    assert "data-members" not in late.screen.html
    for p in [*phones, late]:
        await p.close()
    await tov.http.aclose()


def test_a_controls_reply_counts_a_phone_that_joined_while_its_push_waits(
    templates: Templates, tmp_path: Path
) -> None:
    """A control's reply may reuse the console its change's push drew. A join changes no version;
    while its push waits out the coalescing interval (here 2 s), the reply, even a refusal (409,
    no push of its own), draws the console afresh and counts the new phone."""
    from tests.conftest import running_inprocess

    with running_inprocess(templates, tmp_path, coalesce_seconds=2) as app:
        tovholder = app.login()
        run_id, code = start_run(tovholder, "reflection-short")
        htmx = {"HX-Request": "true"}
        version = int(app.house.runner.get_run(run_id).version)
        moved = tovholder.post(f"/runs/{run_id}/next", data={"version": str(version)}, headers=htmx)
        assert moved.status_code == 200 and 'data-count="participants">0<' in moved.text
        phone = app.client("10.9.9.9")
        phone.post(f"/j/{code}", data={"csrf_token": csrf_of(phone.get(f"/j/{code}").text), "name": "Kari"})
        stale = tovholder.post(f"/runs/{run_id}/next", data={"version": str(version)}, headers=htmx)
        assert stale.status_code == 409
        assert 'data-count="participants">1<' in stale.text
