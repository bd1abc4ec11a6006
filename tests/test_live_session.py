"""The whole `reflection` flow with 40 real phones over real sockets, on SQLite and PostgreSQL:
every phone follows every step, every answer is stored exactly once, the projector's tally
matches the database."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import sqlalchemy as sa

from app.config import Settings
from app.flows import load_flow
from exercises import build_registry
from exercises.base import StepContext
from tests.answers import fill
from tests.harness import ROOT, Server
from tests.live import Phone, Screen, Tovholder, version_of, wait_for

PHONES = 40


def count_answers(server: Server, run_id: int | None = None) -> Counter[str]:
    url = Settings(
        _env_file=None, data_dir=server.data_dir, database_url=server.env.get("TOVHOLDER_DATABASE_URL", "")
    ).resolved_database_url
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT step_id, count(*) FROM answer WHERE CAST(:run AS INTEGER) IS NULL OR run_id = :run "
                "GROUP BY step_id"
            ),
            {"run": run_id},
        ).all()
        dupes = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT participant_id, idempotency_key FROM answer "
                "GROUP BY participant_id, idempotency_key HAVING count(*) > 1) d"
            )
        ).scalar_one()
    engine.dispose()
    assert dupes == 0
    return Counter({step: n for step, n in rows})


@pytest.mark.timeout(600)
async def test_forty_phones_follow_every_step_and_each_answer_is_stored_once(server: Server) -> None:
    flow = load_flow(ROOT / "sessions" / "reflection.yaml", build_registry())
    registry = build_registry()
    tov = Tovholder(server.url)
    await tov.login()
    run_id, code = await tov.start("reflection", "en")

    projector = Screen(server.url, "projector", code, tov.cookies)
    console = Screen(server.url, "console", code, tov.cookies)
    await projector.connect()
    await console.connect()

    phones = [Phone(server.url, code, name=f"P{i}" if i % 3 else None) for i in range(PHONES)]
    await asyncio.gather(*(p.join() for p in phones))
    await wait_for(lambda: f"<strong>{PHONES}</strong>" in projector.html, "the lobby to count 40 people")

    expected: Counter[str] = Counter()
    version = projector.version
    for step in flow.steps:
        r = await tov.control(run_id, "next", version=version)
        assert r.status_code == 200, r.text
        version = version_of(r.text)
        # Every phone receives every step, pushed (never polled).
        await wait_for(
            lambda: all(p.screen and p.screen.version >= version for p in phones),
            f"all phones to receive step {step.id}",
        )
        for p in phones:
            assert p.screen is not None
            if registry[step.exercise].collects_answers:
                assert f'name="step" value="{step.id}"' in p.screen.html
            else:
                assert "Look at the big screen" in p.screen.html
        exercise = registry[step.exercise]
        if not exercise.collects_answers:
            continue
        limit = min(3, exercise.max_answers(exercise.settings(step.settings), StepContext()))

        async def answer_all(i: int, phone: Phone) -> int:
            assert phone.screen is not None
            sent = 0
            for card in range(1 + i % limit):
                fields = fill(phone.screen.html, i, card)
                assert fields is not None, f"phone {i} has no form on {step.id}"
                if i % 2:
                    ack = await phone.answer_by_socket(step.id, fields)
                    assert ack["ok"] and ack["created"], ack
                    if card == 0:  # a resend of the same key is acknowledged, not stored again
                        again = await phone.answer_by_socket(step.id, fields, key=ack["key"])
                        assert again["ok"] and not again["created"], again
                else:
                    key = f"http-{i}-{card}-{step.id}"
                    r = await phone.answer_by_http(step.id, fields, key=key)
                    assert r.status_code == 201, r.text
                    assert "Sent" in r.text
                    if card == 0:
                        again = await phone.answer_by_http(step.id, fields, key=key)
                        assert again.status_code == 200, again.text
                sent += 1
            return sent

        counts = await asyncio.gather(*(answer_all(i, p) for i, p in enumerate(phones)))
        expected[step.id] = sum(counts)
        if step.hide_results:
            # While hidden, the projector shows only how many answers came, not what they say.
            hidden = f'hidden-results__count">{expected[step.id]}<'
            await wait_for(lambda: hidden in projector.html, "the hidden count on the projector")
            assert "from phone 1:" not in projector.html
            r = await tov.control(run_id, "reveal", version=version)
            assert r.status_code == 200
            version = version_of(r.text)
        want = f"{expected[step.id]} answers · {PHONES} of {PHONES} people"
        await wait_for(lambda: want in projector.html, f"the projector tally '{want}'")
        await wait_for(
            lambda: (
                want.split(" · ")[0] in console.html
                or f'data-count="answers">{expected[step.id]}<' in console.html
            ),
            "the console count",
        )

    r = await tov.control(run_id, "close", version=version)
    assert r.status_code == 200
    await wait_for(
        lambda: all(p.screen and "has ended" in p.screen.html for p in phones), "every phone to show the end"
    )
    assert count_answers(server) == expected
    # Coalescing: 40 phones answering make far fewer projector pushes than answers.
    assert len(projector.received) < sum(expected.values())

    results = await tov.http.get(f"/runs/{run_id}/results")
    assert results.status_code == 200
    assert "Card 0 from phone 2: we kept the citizen in view ✓ æøå" in results.text
    for p in phones:
        await p.close()
    await projector.close()
    await console.close()
    await tov.http.aclose()
    assert "Traceback" not in server.log(), server.log()[-3000:]
